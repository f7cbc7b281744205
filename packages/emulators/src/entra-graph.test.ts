import { ClientSecretCredential } from "@azure/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTrustingFetch, type EntraGraphStandIn, startEntraGraphStandIn } from "./entra-graph";

const TENANT = "tenant-1";
const CLIENT = "client-1";
const SECRET = "the-secret";

let entra: EntraGraphStandIn;
let trustingFetch: ReturnType<typeof createTrustingFetch>;

async function json(url: string, init: RequestInit = {}) {
  const response = await trustingFetch(url, init);
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown> & {
      value?: Array<Record<string, unknown>>;
      error?: { code?: string; message?: string };
    },
  };
}

function tokenRequest(fields: Record<string, string>, tenant = TENANT) {
  return json(`${entra.authorityHost}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
}

const goodForm = () => ({
  grant_type: "client_credentials",
  client_id: CLIENT,
  client_secret: SECRET,
  scope: entra.graphScope,
});

async function token(): Promise<string> {
  const { body } = await tokenRequest(goodForm());
  return body.access_token as string;
}

const graph = async (path: string, bearer?: string) =>
  json(`${entra.graphApiUrl}${path}`, bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {});

beforeAll(async () => {
  entra = await startEntraGraphStandIn({ tenantId: TENANT, clientId: CLIENT, clientSecret: SECRET });
  trustingFetch = createTrustingFetch(entra.ca as string);
  const users = ["u1", "u2", "u3", "u4", "u5"].map((id) =>
    entra.addUser({
      id,
      userPrincipalName: `${id}@contoso.example`,
      mail: `${id.toUpperCase()}@Example.com`,
    }),
  );
  entra.addGroup("top", { members: [users[0] as string, "inner"] });
  entra.addGroup("inner", { members: ["u2", "u3", "deeper", "u1"] });
  entra.addGroup("deeper", { members: ["u4", "u5", "top", "deleted-object"] });
});
afterAll(() => entra.close());

describe("Entra ID part", () => {
  it("serves the OpenID discovery document of its tenant, and only of its tenant", async () => {
    const { status, body } = await json(
      `${entra.authorityHost}/${TENANT}/v2.0/.well-known/openid-configuration`,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      issuer: `${entra.authorityHost}/${TENANT}/v2.0`,
      token_endpoint: `${entra.authorityHost}/${TENANT}/oauth2/v2.0/token`,
      authorization_endpoint: `${entra.authorityHost}/${TENANT}/oauth2/v2.0/authorize`,
    });
    expect(body.jwks_uri).toBeTypeOf("string");
    const other = await json(`${entra.authorityHost}/other/v2.0/.well-known/openid-configuration`);
    expect(other.status).toBe(400);
    expect(other.body.error).toBe("invalid_tenant");
  });

  it("issues a bearer token for client_credentials with the right id, secret and scope", async () => {
    const { status, body } = await tokenRequest(goodForm());
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599 });
    expect(String(body.access_token).split(".")).toHaveLength(3);
  });

  it("answers a wrong secret with 401 invalid_client AADSTS7000215, without echoing the secret", async () => {
    const { status, body } = await tokenRequest({ ...goodForm(), client_secret: "not-the-secret" });
    expect(status).toBe(401);
    expect(body.error).toBe("invalid_client");
    expect(body.error_codes).toEqual([7000215]);
    expect(String(body.error_description)).toMatch(/^AADSTS7000215: Invalid client secret provided/);
    expect(JSON.stringify(body)).not.toContain("not-the-secret");
  });

  it("refuses other clients, grants and resources", async () => {
    const client = await tokenRequest({ ...goodForm(), client_id: "someone-else" });
    expect([client.status, client.body.error]).toEqual([400, "unauthorized_client"]);
    const grant = await tokenRequest({ ...goodForm(), grant_type: "password" });
    expect([grant.status, grant.body.error]).toEqual([400, "unsupported_grant_type"]);
    const resource = await tokenRequest({ ...goodForm(), scope: "https://graph.microsoft.com/.default" });
    expect([resource.status, resource.body.error]).toEqual([400, "invalid_resource"]);
    const scope = await tokenRequest({ ...goodForm(), scope: "User.Read" });
    expect([scope.status, scope.body.error]).toEqual([400, "invalid_scope"]);
    const noSecret = await tokenRequest({
      grant_type: "client_credentials",
      client_id: CLIENT,
      scope: entra.graphScope,
    });
    expect([noSecret.status, noSecret.body.error]).toEqual([401, "invalid_client"]);
  });

  it("issues tokens for the other resources it is given; only that resource's stand-in accepts them", async () => {
    const vault = await startEntraGraphStandIn({
      tenantId: TENANT,
      clientId: CLIENT,
      clientSecret: SECRET,
      resources: ["https://vault.azure.net"],
    });
    try {
      const fetchVault = createTrustingFetch(vault.ca as string);
      const res = await fetchVault(`${vault.authorityHost}/${TENANT}/oauth2/v2.0/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ ...goodForm(), scope: "https://vault.azure.net/.default" }).toString(),
      });
      const issued = String(((await res.json()) as { access_token: string }).access_token);
      expect(vault.acceptsToken(issued, "https://vault.azure.net")).toBe(true);
      expect(vault.acceptsToken(issued, "https://storage.azure.com")).toBe(false);
      expect(vault.acceptsToken("made-up", "https://vault.azure.net")).toBe(false);
      // Graph wants a token for itself, not one for the vault.
      const graphAnswer = await fetchVault(`${vault.graphApiUrl}/groups/g/transitiveMembers`, {
        headers: { authorization: `Bearer ${issued}` },
      });
      expect(graphAnswer.status).toBe(401);
    } finally {
      await vault.close();
    }
  });

  it("gives the real ClientSecretCredential a token over the wire (discovery, then token), cached by MSAL", async () => {
    const before = { ...entra.counts };
    const credential = new ClientSecretCredential(TENANT, CLIENT, SECRET, {
      authorityHost: entra.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: entra.ca },
    });
    const first = await credential.getToken(entra.graphScope);
    const second = await credential.getToken(entra.graphScope);
    expect(first?.token).toBeTruthy();
    expect(second?.token).toBe(first?.token);
    expect(first?.expiresOnTimestamp).toBeGreaterThan(Date.now() + 3000_000);
    expect(entra.counts.discoveryRequests - before.discoveryRequests).toBe(1);
    expect(entra.counts.tokenRequests - before.tokenRequests).toBe(1);
    const { status } = await graph("/groups/top/transitiveMembers", first?.token);
    expect(status).toBe(200);
  });
});

describe("Microsoft Graph part", () => {
  it("wants a token it issued: none or a foreign one is 401 InvalidAuthenticationToken", async () => {
    const none = await graph("/groups/top/transitiveMembers");
    expect(none.status).toBe(401);
    expect(none.body.error?.code).toBe("InvalidAuthenticationToken");
    const forged = await graph("/groups/top/transitiveMembers", "eyJ0eXAiOiJKV1QifQ.e30.forged");
    expect(forged.status).toBe(401);
    expect(forged.body.error?.code).toBe("InvalidAuthenticationToken");
  });

  it("lists transitive members once each, through nesting and a cycle, skipping dangling ids", async () => {
    const { status, body } = await graph("/groups/top/transitiveMembers", await token());
    expect(status).toBe(200);
    const ids = (body.value ?? []).map((member) => member.id);
    expect(ids.sort()).toEqual(["deeper", "inner", "u1", "u2", "u3", "u4", "u5"]);
  });

  it("casts to users and projects $select, always telling the @odata.type", async () => {
    const { body } = await graph(
      "/groups/top/transitiveMembers/microsoft.graph.user?$select=mail,userPrincipalName",
      await token(),
    );
    expect(body.value).toHaveLength(5);
    expect(body.value?.[0]).toEqual({
      "@odata.type": "#microsoft.graph.user",
      mail: "U1@Example.com",
      userPrincipalName: "u1@contoso.example",
    });
    const groups = await graph("/groups/top/transitiveMembers/microsoft.graph.group", await token());
    expect((groups.body.value ?? []).map((g) => g.id).sort()).toEqual(["deeper", "inner"]);
  });

  it("pages with $top through absolute @odata.nextLink URLs back to itself", async () => {
    const bearer = await token();
    const before = entra.counts.graphRequests;
    const seen: unknown[] = [];
    let url: string | undefined =
      `${entra.graphApiUrl}/groups/top/transitiveMembers/microsoft.graph.user?$top=2`;
    const links: string[] = [];
    while (url) {
      const { status, body } = await json(url, { headers: { authorization: `Bearer ${bearer}` } });
      expect(status).toBe(200);
      seen.push(...(body.value ?? []).map((user) => user.id));
      url = body["@odata.nextLink"] as string | undefined;
      if (url) links.push(url);
    }
    expect(seen).toEqual(["u1", "u2", "u3", "u4", "u5"]);
    expect(links).toHaveLength(2);
    for (const link of links) {
      expect(link.startsWith(`${entra.graphApiUrl}/groups/top/transitiveMembers/microsoft.graph.user?`)).toBe(
        true,
      );
      expect(new URL(link).searchParams.get("$top")).toBe("2");
    }
    expect(entra.counts.graphRequests - before).toBe(3);
  });

  it("rejects page sizes outside 1..999", async () => {
    const { status, body } = await graph("/groups/top/transitiveMembers?$top=1000", await token());
    expect(status).toBe(400);
    expect(body.error?.message).toMatch(/page size/);
  });

  it("answers unknown groups with 404 Request_ResourceNotFound", async () => {
    const { status, body } = await graph("/groups/nope/transitiveMembers", await token());
    expect(status).toBe(404);
    expect(body.error?.code).toBe("Request_ResourceNotFound");
    expect(body.error?.message).toContain("'nope'");
  });

  it("lists a user's transitive groups, finding the user by UPN", async () => {
    const { status, body } = await graph("/users/U4@contoso.example/transitiveMemberOf", await token());
    expect(status).toBe(200);
    expect((body.value ?? []).map((g) => g.id).sort()).toEqual(["deeper", "inner", "top"]);
  });

  it("throttles on demand: 429 with Retry-After, then serves again", async () => {
    const bearer = await token();
    entra.throttleNext(1, 7);
    const throttled = await graph("/groups/top/transitiveMembers", bearer);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe("7");
    expect(throttled.body.error?.code).toBe("TooManyRequests");
    expect((await graph("/groups/top/transitiveMembers", bearer)).status).toBe(200);
  });

  it("fails on demand with any status and code", async () => {
    entra.failNext(1, { status: 503, code: "serviceNotAvailable" });
    const failed = await graph("/groups/top/transitiveMembers", await token());
    expect(failed.status).toBe(503);
    expect(failed.body.error?.code).toBe("serviceNotAvailable");
  });

  it("forgets revoked tokens", async () => {
    const bearer = await token();
    entra.revokeTokens();
    expect((await graph("/groups/top/transitiveMembers", bearer)).status).toBe(401);
  });

  it("is trusted only through its own certificate", async () => {
    const other = await startEntraGraphStandIn({ tenantId: TENANT, clientId: CLIENT, clientSecret: SECRET });
    try {
      const wrongTrust = createTrustingFetch(other.ca as string);
      await expect(
        wrongTrust(`${entra.authorityHost}/${TENANT}/v2.0/.well-known/openid-configuration`),
      ).rejects.toThrow();
      await expect(globalThis.fetch(`${entra.graphApiUrl}/groups/top`)).rejects.toThrow();
    } finally {
      await other.close();
    }
  });
});

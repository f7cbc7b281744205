import { ClientSecretCredential } from "@azure/identity";
import {
  createTrustingFetch,
  type EntraGraphStandIn,
  startEntraGraphStandIn,
} from "@victoria/emulators/entra-graph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createGraphDirectory,
  DirectoryError,
  type GraphDirectoryOptions,
  graphScopeFor,
} from "./graph-directory";

const TENANT = "11111111-2222-3333-4444-555555555555";
const CLIENT = "66666666-7777-8888-9999-000000000000";
const SECRET = "s3cret~Value.That-Must-Never-Leak";
const SRE = "a0000000-0000-0000-0000-00000000sre0";
const PLATFORM = "a0000000-0000-0000-0000-0000platform";
const ONCALL = "a0000000-0000-0000-0000-000000oncall";
const BIG = "b0000000-0000-0000-0000-000000000big";

let entra: EntraGraphStandIn;
let fetch: GraphDirectoryOptions["fetch"];

/** The real credential, pointed at the stand-in and trusting its certificate (for this client only). */
function credential(secret = SECRET) {
  return new ClientSecretCredential(TENANT, CLIENT, secret, {
    authorityHost: entra.authorityHost,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: entra.ca },
  });
}

/** A clock tests move by hand. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function directory(overrides: Partial<GraphDirectoryOptions> = {}) {
  return createGraphDirectory({
    credential: credential(),
    groupId: SRE,
    graphApiUrl: entra.graphApiUrl,
    fetch,
    ...overrides,
  });
}

/** Counter changes caused by `action`. */
async function delta<T>(action: () => Promise<T>) {
  const before = { ...entra.counts };
  const result = await action();
  return {
    result,
    tokens: entra.counts.tokenRequests - before.tokenRequests,
    graph: entra.counts.graphRequests - before.graphRequests,
  };
}

beforeAll(async () => {
  entra = await startEntraGraphStandIn({ tenantId: TENANT, clientId: CLIENT, clientSecret: SECRET });
  fetch = createTrustingFetch(entra.ca as string);
  const alice = entra.addUser({
    userPrincipalName: "alice@contoso.onmicrosoft.com",
    mail: "Alice@Example.com",
    proxyAddresses: ["SMTP:Alice@Example.com", "smtp:alice.alias@example.com", "X500:/o=whatever"],
  });
  const bob = entra.addUser({ userPrincipalName: "bob@example.com", mail: null });
  const carol = entra.addUser({
    userPrincipalName: "carol_partner.org#EXT#@contoso.onmicrosoft.com",
    mail: "carol@partner.org",
    otherMails: ["carol.private@mail.example"],
  });
  const dave = entra.addUser({ userPrincipalName: "dave@example.com", mail: "dave@example.com" });
  entra.addUser({ userPrincipalName: "eve@example.com", mail: "eve@example.com" });
  entra.addGroup(SRE, { members: [alice, PLATFORM] });
  entra.addGroup(PLATFORM, { members: [bob, carol, ONCALL] });
  // A cycle back to the top, as real tenants sometimes have.
  entra.addGroup(ONCALL, { members: [dave, SRE] });

  const many = Array.from({ length: 23 }, (_, i) =>
    entra.addUser({ userPrincipalName: `user${i}@example.com`, mail: `user${i}@example.com` }),
  );
  entra.addGroup(BIG, { members: [...many, ONCALL] });
});
afterAll(() => entra.close());

describe("graphScopeFor", () => {
  it("is the origin of the Graph URL plus /.default", () => {
    expect(graphScopeFor("https://graph.microsoft.com/v1.0")).toBe("https://graph.microsoft.com/.default");
    expect(graphScopeFor("https://graph.microsoft.us/v1.0/")).toBe("https://graph.microsoft.us/.default");
    expect(graphScopeFor("https://127.0.0.1:8443/v1.0")).toBe("https://127.0.0.1:8443/.default");
  });
});

describe("Graph directory, over the wire with the real ClientSecretCredential", () => {
  it("finds a direct member by mail, case-insensitively, and by UPN and SMTP alias", async () => {
    const sre = directory();
    expect(await sre.isMember("alice@example.com")).toBe(true);
    expect(await sre.isMember(" ALICE@EXAMPLE.COM ")).toBe(true);
    expect(await sre.isMember("alice@contoso.onmicrosoft.com")).toBe(true);
    expect(await sre.isMember("alice.alias@example.com")).toBe(true);
    expect(await sre.isMember("/o=whatever")).toBe(false);
  });

  it("finds members of nested groups (two levels down, through a cycle), by UPN, mail or otherMails", async () => {
    const sre = directory();
    expect(await sre.isMember("bob@example.com")).toBe(true);
    expect(await sre.isMember("carol@partner.org")).toBe(true);
    expect(await sre.isMember("carol.private@mail.example")).toBe(true);
    expect(await sre.isMember("dave@example.com")).toBe(true);
  });

  it("refuses non-members and empty input", async () => {
    const sre = directory();
    expect(await sre.isMember("eve@example.com")).toBe(false);
    expect(await sre.isMember("user1@example.com")).toBe(false);
    expect(await sre.isMember("")).toBe(false);
  });

  it("reads every page: 27 users at 10 a page is 3 pages, and the last page counts", async () => {
    const big = directory({ groupId: BIG, pageSize: 10 });
    const { result, graph } = await delta(() => big.isMember("dave@example.com"));
    expect(result).toBe(true);
    expect(graph).toBe(3);
    expect(await big.isMember("user0@example.com")).toBe(true);
    expect(await big.isMember("user22@example.com")).toBe(true);
    // Through on-call's cycle back to the SRE group, its members are in too; Eve is in neither.
    expect(await big.isMember("alice@example.com")).toBe(true);
    expect(await big.isMember("eve@example.com")).toBe(false);
  });

  it("answers from the cache within the TTL, members and non-members alike", async () => {
    const time = clock();
    const sre = directory({ now: time.now, cacheTtlMs: 60_000 });
    expect((await delta(() => sre.isMember("alice@example.com"))).graph).toBe(1);
    time.advance(59_000);
    const again = await delta(async () => [
      await sre.isMember("alice@example.com"),
      await sre.isMember("eve@example.com"),
      await sre.isMember("bob@example.com"),
    ]);
    expect(again.result).toEqual([true, false, true]);
    expect(again.graph).toBe(0);
    expect(again.tokens).toBe(0);
  });

  it("refreshes after the TTL and then sees membership changes", async () => {
    const group = "c0000000-0000-0000-0000-00000changes";
    const frank = entra.addUser({ userPrincipalName: "frank@example.com", mail: "frank@example.com" });
    entra.addGroup(group, { members: [] });
    const time = clock();
    const team = directory({ groupId: group, now: time.now, cacheTtlMs: 300_000 });
    expect(await team.isMember("frank@example.com")).toBe(false);

    entra.addGroup(group, { members: [frank] });
    time.advance(299_999);
    expect((await delta(() => team.isMember("frank@example.com"))).result).toBe(false);
    time.advance(1);
    const refreshed = await delta(() => team.isMember("frank@example.com"));
    expect(refreshed.result).toBe(true);
    expect(refreshed.graph).toBe(1);
  });

  it("asks for one token however many look-ups and refreshes there are", async () => {
    const time = clock();
    const sre = directory({ now: time.now, cacheTtlMs: 1000 });
    const { tokens, graph } = await delta(async () => {
      for (let i = 0; i < 5; i++) {
        expect(await sre.isMember("alice@example.com")).toBe(true);
        expect(await sre.isMember("eve@example.com")).toBe(false);
        time.advance(1000);
      }
    });
    expect(graph).toBe(5);
    expect(tokens).toBe(1);
  });

  it("shares one fetch among concurrent callers during a refresh", async () => {
    const sre = directory();
    const emails = ["alice@example.com", "bob@example.com", "eve@example.com", "dave@example.com"];
    const { result, graph, tokens } = await delta(() =>
      Promise.all([...emails, ...emails].map((email) => sre.isMember(email))),
    );
    expect(result).toEqual([true, true, false, true, true, true, false, true]);
    expect(graph).toBe(1);
    expect(tokens).toBe(1);
  });

  it("a wrong client secret is a DirectoryError naming Entra's error, never the secret", async () => {
    const wrongSecret = "wrong~Secret.Value-12345";
    const sre = directory({ credential: credential(wrongSecret) });
    const { result: error, graph } = await delta(() =>
      sre.isMember("alice@example.com").catch((e: unknown) => e),
    );
    expect(error).toBeInstanceOf(DirectoryError);
    const message = (error as Error).message;
    expect(message).toContain("Could not get a Microsoft Graph token");
    expect(message).toContain("AADSTS7000215");
    expect(message).not.toContain(wrongSecret);
    expect(message).not.toContain(SECRET);
    expect(graph).toBe(0);
  });

  it("an unknown group is a DirectoryError with Graph's status and code", async () => {
    const missing = "d0000000-0000-0000-0000-0000nothere0";
    const error = await directory({ groupId: missing })
      .isMember("alice@example.com")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DirectoryError);
    expect(error).toMatchObject({ name: "DirectoryError", status: 404, code: "Request_ResourceNotFound" });
    expect((error as Error).message).toContain("HTTP 404 Request_ResourceNotFound");
    expect((error as Error).message).toContain(`check SRE_GROUP_ID`);
  });

  it("waits out a 429 as Retry-After says, once, then succeeds", async () => {
    const waits: number[] = [];
    const sre = directory({ sleep: async (ms) => void waits.push(ms) });
    entra.throttleNext(1, 3);
    const { result, graph } = await delta(() => sre.isMember("alice@example.com"));
    expect(result).toBe(true);
    expect(waits).toEqual([3000]);
    expect(graph).toBe(2);
  });

  it("really sleeps for the Retry-After by default", async () => {
    const sre = directory();
    entra.throttleNext(1, 1);
    const started = Date.now();
    expect(await sre.isMember("alice@example.com")).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it("gives up after a second 429, or at once when Retry-After is longer than allowed", async () => {
    const waits: number[] = [];
    entra.throttleNext(2, 1);
    const twice = await directory({ sleep: async (ms) => void waits.push(ms) })
      .isMember("alice@example.com")
      .catch((e: unknown) => e);
    expect(twice).toMatchObject({ name: "DirectoryError", status: 429, code: "TooManyRequests" });
    expect((twice as Error).message).toContain("retry after 1 s");
    expect(waits).toEqual([1000]);

    entra.throttleNext(1, 120);
    const tooLong = await directory({ sleep: async (ms) => void waits.push(ms), maxRetryAfterMs: 10_000 })
      .isMember("alice@example.com")
      .catch((e: unknown) => e);
    expect(tooLong).toMatchObject({ status: 429 });
    expect(waits).toEqual([1000]);
  });

  it("a failed refresh is not cached: the next call tries again and succeeds", async () => {
    const sre = directory();
    entra.failNext(1, { status: 503, code: "serviceNotAvailable", message: "Service unavailable." });
    const error = await sre.isMember("alice@example.com").catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "DirectoryError", status: 503, code: "serviceNotAvailable" });
    expect((error as Error).message).toContain("Graph is unavailable");
    expect(await sre.isMember("alice@example.com")).toBe(true);
  });

  it("a 403 says which permissions the app needs", async () => {
    entra.failNext(1, {
      status: 403,
      code: "Authorization_RequestDenied",
      message: "Insufficient privileges.",
    });
    const error = await directory()
      .isMember("alice@example.com")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 403, code: "Authorization_RequestDenied" });
    expect((error as Error).message).toContain("GroupMember.Read.All");
  });

  it("a token Graph rejects is a 401 DirectoryError that does not show the token", async () => {
    const cred = credential();
    const sre = directory({ credential: cred });
    expect(await sre.isMember("alice@example.com")).toBe(true);
    const token = (await cred.getToken(entra.graphScope))?.token ?? "";
    entra.revokeTokens();
    const error = await directory({ credential: cred })
      .isMember("alice@example.com")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401, code: "InvalidAuthenticationToken" });
    expect(token.length).toBeGreaterThan(20);
    expect((error as Error).message).not.toContain(token);
  });

  it("never sends the token to a next link on another origin", async () => {
    const elsewhere: string[] = [];
    const base = fetch as NonNullable<GraphDirectoryOptions["fetch"]>;
    const redirecting: GraphDirectoryOptions["fetch"] = async (url, init) => {
      if (!url.startsWith(entra.graphApiUrl)) {
        elsewhere.push(url);
        throw new Error("must not be called");
      }
      const response = await base(url, init);
      const body = (await response.json()) as Record<string, unknown>;
      body["@odata.nextLink"] = "https://attacker.example/v1.0/steal";
      return new Response(JSON.stringify(body), { status: 200 });
    };
    const error = await directory({ fetch: redirecting })
      .isMember("alice@example.com")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DirectoryError);
    expect((error as Error).message).toContain("another origin");
    expect(elsewhere).toEqual([]);
  });

  it("refuses a Graph URL that would send the token in clear text", () => {
    expect(() => directory({ graphApiUrl: "http://graph.example.com/v1.0" })).toThrow(/must use https/);
    expect(() => directory({ graphApiUrl: "not a url" })).toThrow(/not a URL/);
  });
});

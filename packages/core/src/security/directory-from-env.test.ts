import {
  createTrustingFetch,
  type EntraGraphStandIn,
  startEntraGraphStandIn,
} from "@victoria/emulators/entra-graph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDirectoryFromEnv, DirectoryError } from "./directory-from-env";

const TENANT = "0c0c0c0c-1111-2222-3333-444444444444";
const CLIENT = "app-client-id";
const SECRET = "Env~Secret.Value-9876";
const GROUP = "group-sre";

let entra: EntraGraphStandIn;

const graphEnv = () => ({
  AZURE_TENANT_ID: TENANT,
  AZURE_CLIENT_ID: CLIENT,
  AZURE_CLIENT_SECRET: SECRET,
  SRE_GROUP_ID: GROUP,
  AZURE_AUTHORITY_HOST: entra.authorityHost,
  GRAPH_API_URL: entra.graphApiUrl,
});

const deps = () => ({
  credentialOptions: { tlsOptions: { ca: entra.ca } },
  fetch: createTrustingFetch(entra.ca as string),
});

beforeAll(async () => {
  entra = await startEntraGraphStandIn({ tenantId: TENANT, clientId: CLIENT, clientSecret: SECRET });
  const sam = entra.addUser({ userPrincipalName: "sam@example.com", mail: "sam@example.com" });
  entra.addGroup(GROUP, { members: [sam] });
});
afterAll(() => entra.close());

describe("createDirectoryFromEnv", () => {
  it("uses SRE_MEMBERS as the group when set, without any Graph call, even if Graph is configured", async () => {
    const before = { ...entra.counts };
    const directory = createDirectoryFromEnv(
      { ...graphEnv(), SRE_MEMBERS: "sre@example.com, Lead@Example.com" },
      {
        fetch: async () => {
          throw new Error("no Graph call expected");
        },
      },
    );
    expect(await directory.isMember("lead@example.com")).toBe(true);
    expect(await directory.isMember("sam@example.com")).toBe(false);
    expect(entra.counts).toEqual(before);
  });

  it("refuses an SRE_MEMBERS that lists nobody", () => {
    expect(() => createDirectoryFromEnv({ SRE_MEMBERS: " , ;" })).toThrow(
      "SRE_MEMBERS lists no email addresses",
    );
  });

  it("names every Graph variable when nothing is configured (blank counts as unset)", () => {
    expect(() => createDirectoryFromEnv({ SRE_MEMBERS: "  ", AZURE_CLIENT_ID: " " })).toThrow(
      "set SRE_MEMBERS, or for Microsoft Graph set AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, SRE_GROUP_ID",
    );
  });

  it("names exactly the missing variables, and no values", () => {
    let message = "";
    try {
      createDirectoryFromEnv({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_SECRET: SECRET });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/set AZURE_CLIENT_ID, SRE_GROUP_ID$/);
    expect(message).not.toContain("AZURE_TENANT_ID");
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain(TENANT);
  });

  it("wants an https authority and a usable Graph URL", () => {
    expect(() =>
      createDirectoryFromEnv({ ...graphEnv(), AZURE_AUTHORITY_HOST: "http://login.example" }),
    ).toThrow("AZURE_AUTHORITY_HOST must be an https URL");
    expect(() =>
      createDirectoryFromEnv({ ...graphEnv(), GRAPH_API_URL: "http://graph.example/v1.0" }),
    ).toThrow(/^GRAPH_API_URL/);
  });

  it("builds a Graph directory on a real ClientSecretCredential from the variables", async () => {
    // No disableInstanceDiscovery here: a non-Microsoft authority host turns it on by itself (else MSAL
    // would ask login.microsoftonline.com about the stand-in and fail offline).
    const before = { ...entra.counts };
    const directory = createDirectoryFromEnv(graphEnv(), deps());
    expect(await directory.isMember("SAM@example.com")).toBe(true);
    expect(await directory.isMember("someone@example.com")).toBe(false);
    expect(entra.counts.tokenRequests - before.tokenRequests).toBe(1);
    expect(entra.counts.graphRequests - before.graphRequests).toBe(1);
  });

  it("reports a wrong secret as a DirectoryError without the secret", async () => {
    const wrong = "Wrong~Env.Secret-0000";
    const directory = createDirectoryFromEnv({ ...graphEnv(), AZURE_CLIENT_SECRET: wrong }, deps());
    const error = await directory.isMember("sam@example.com").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DirectoryError);
    expect((error as Error).message).toContain("AADSTS7000215");
    expect((error as Error).message).not.toContain(wrong);
  });
});

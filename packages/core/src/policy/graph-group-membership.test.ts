import { ClientSecretCredential } from "@azure/identity";
import {
  createTrustingFetch,
  type EntraGraphStandIn,
  startEntraGraphStandIn,
} from "@victoria/emulators/entra-graph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createGraphGroupMembership,
  DirectoryError,
  type GraphFetch,
  type GraphGroupMembershipOptions,
} from "../adapters/azure/graph-directory";
import { decide } from "./decide";
import { parsePolicy } from "./policy-file";
import type { SubjectDirectory } from "./subject-directory";

/*
 * The policy's Entra groups over the wire: the real ClientSecretCredential and fetch against the Entra/Graph
 * stand-in, as graph-directory.test.ts does for the SRE group.
 */

const TENANT = "11111111-2222-3333-4444-555555555555";
const CLIENT = "66666666-7777-8888-9999-000000000000";
const SECRET = "s3cret~Policy.Value-Never-Leaks";
const SRE = "a0000000-0000-0000-0000-00000000sre0";
const PLATFORM = "a0000000-0000-0000-0000-0000platform";
const ONCALL = "a0000000-0000-0000-0000-000000oncall";
const LEADS = "a0000000-0000-0000-0000-0000000leads";
const BIG = "b0000000-0000-0000-0000-000000000big";

let entra: EntraGraphStandIn;
let fetch: GraphFetch;

function membership(overrides: Partial<GraphGroupMembershipOptions> = {}) {
  return createGraphGroupMembership({
    credential: new ClientSecretCredential(TENANT, CLIENT, SECRET, {
      authorityHost: entra.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: entra.ca },
    }),
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
  const alice = entra.addUser({ userPrincipalName: "alice@example.com", mail: "Alice@Example.com" });
  const bob = entra.addUser({ userPrincipalName: "bob@example.com", mail: "bob@example.com" });
  const dave = entra.addUser({
    userPrincipalName: "dave_partner.org#EXT#@contoso.onmicrosoft.com",
    mail: "dave@partner.org",
  });
  const lena = entra.addUser({ userPrincipalName: "lena@example.com", mail: "lena@example.com" });
  entra.addUser({ userPrincipalName: "eve@example.com", mail: "eve@example.com" });
  entra.addGroup(SRE, { members: [alice, PLATFORM] });
  entra.addGroup(PLATFORM, { members: [bob, ONCALL] });
  entra.addGroup(ONCALL, { members: [dave, SRE] }); // a cycle back to the top
  entra.addGroup(LEADS, { members: [lena] });
  const many = Array.from({ length: 24 }, (_, i) =>
    entra.addUser({ userPrincipalName: `user${i}@example.com`, mail: `user${i}@example.com` }),
  );
  entra.addGroup(BIG, { members: [...many, LEADS] });
});
afterAll(() => entra.close());

describe("createGraphGroupMembership, over the wire", () => {
  it("answers for any group, nested groups and cycles included, case-insensitively", async () => {
    const groups = membership();
    expect(await groups.inGroup(SRE, "ALICE@example.com")).toBe(true);
    expect(await groups.inGroup(SRE, "bob@example.com")).toBe(true);
    expect(await groups.inGroup(SRE, "dave@partner.org")).toBe(true);
    expect(await groups.inGroup(PLATFORM, "alice@example.com")).toBe(true); // through on-call's cycle
    expect(await groups.inGroup(LEADS, "lena@example.com")).toBe(true);
    expect(await groups.inGroup(LEADS, "alice@example.com")).toBe(false);
    expect(await groups.inGroup(SRE, "eve@example.com")).toBe(false);
    expect(await groups.inGroup(SRE, " ")).toBe(false);
  });

  it("reads every page: 25 users at 10 a page is 3 pages, and the last page counts", async () => {
    const groups = membership({ pageSize: 10 });
    const { result, graph } = await delta(() => groups.inGroup(BIG, "lena@example.com"));
    expect(result).toBe(true);
    expect(graph).toBe(3);
    expect(await groups.inGroup(BIG, "user23@example.com")).toBe(true);
    expect(await groups.inGroup(BIG, "alice@example.com")).toBe(false);
  });

  it("caches each group apart, with one token for all of them", async () => {
    let t = 0;
    const groups = membership({ now: () => t, cacheTtlMs: 60_000 });
    const first = await delta(async () => [
      await groups.inGroup(SRE, "alice@example.com"),
      await groups.inGroup(LEADS, "lena@example.com"),
    ]);
    expect(first).toEqual({ result: [true, true], tokens: 1, graph: 2 });
    t = 59_999;
    const cached = await delta(async () => [
      await groups.inGroup(SRE, "eve@example.com"),
      await groups.inGroup(LEADS, "alice@example.com"),
    ]);
    expect(cached).toEqual({ result: [false, false], tokens: 0, graph: 0 });
    t = 60_000;
    expect((await delta(() => groups.inGroup(SRE, "alice@example.com"))).graph).toBe(1);
  });

  it("concurrent callers of one group share one refresh", async () => {
    const groups = membership();
    const { result, graph } = await delta(() =>
      Promise.all(
        ["alice@example.com", "bob@example.com", "eve@example.com"].map((e) => groups.inGroup(SRE, e)),
      ),
    );
    expect(result).toEqual([true, true, false]);
    expect(graph).toBe(1);
  });

  it("an unknown group is a DirectoryError that does not blame SRE_GROUP_ID; an empty id is refused", async () => {
    const groups = membership();
    const error = await groups
      .inGroup("d0000000-0000-0000-0000-0000nothere0", "a@b.c")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "DirectoryError", status: 404, code: "Request_ResourceNotFound" });
    expect((error as Error).message).toContain("check the group's object id");
    expect((error as Error).message).not.toContain("SRE_GROUP_ID");
    await expect(groups.inGroup(" ", "alice@example.com")).rejects.toBeInstanceOf(DirectoryError);
  });

  it("a custom hint names where the id came from", async () => {
    const error = await membership({ missingGroupHint: "check entraGroups in VICTORIA_POLICY" })
      .inGroup("d0000000-0000-0000-0000-0000nothere1", "a@b.c")
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain("check entraGroups in VICTORIA_POLICY");
  });
});

describe("decide with Entra groups from Graph", () => {
  const policy = parsePolicy(
    [
      "subjects:",
      `  sre:   { entraGroups: ["${SRE}"] }`,
      `  leads: { entraGroups: ["${LEADS}"] }`,
      "rules:",
      "  - { commands: [deadletter delete], allow: [sre], channels: [C0OPS], approval: { from: [leads] } }",
      "  - { commands: [deadletter ls, deadletter show], allow: [sre, leads] }",
      "  - { commands: ['*'], deny: 'Ask in #sre' }",
    ].join("\n"),
    "policy.yaml",
  );
  const ask = (dir: SubjectDirectory, email: string, command: string, channel = "C0OPS") =>
    decide(
      policy,
      { user: { slackId: "U0X", email }, channel: { id: channel, isDm: false }, command: command.split(" ") },
      dir,
    );

  it("a nested member is allowed, needs approval for a delete, and is told where else", async () => {
    const groups = membership();
    expect(await ask(groups, "dave@partner.org", "deadletter ls")).toMatchObject({
      outcome: "allow",
      subject: "sre",
    });
    expect(await ask(groups, "lena@example.com", "deadletter ls")).toMatchObject({
      outcome: "allow",
      subject: "leads",
    });
    expect(await ask(groups, "dave@partner.org", "deadletter delete abc")).toMatchObject({
      outcome: "approval",
      from: ["leads"],
    });
    expect(await ask(groups, "bob@example.com", "deadletter delete abc", "C0GENERAL")).toMatchObject({
      outcome: "refuse",
      reason: "channel",
      message: { text: "`deadletter delete` is allowed in <#C0OPS> only." },
    });
    expect(await ask(groups, "lena@example.com", "deadletter delete abc", "C0GENERAL")).toMatchObject({
      outcome: "refuse",
      reason: "denied",
      message: { text: "Ask in #sre" },
    });
    expect(await ask(groups, "eve@example.com", "deadletter ls")).toMatchObject({
      outcome: "refuse",
      reason: "not-allowed",
      message: { text: "Only sre or leads may run `deadletter ls`." },
    });
  });

  it("Graph failing refuses (fail closed) and the explanation carries Graph's error", async () => {
    entra.failNext(1, { status: 503, code: "serviceNotAvailable", message: "Service unavailable." });
    const decision = await ask(membership(), "alice@example.com", "deadletter ls");
    expect(decision).toMatchObject({ outcome: "refuse", reason: "lookup-failed" });
    expect(decision.explanation).toContain("HTTP 503 serviceNotAvailable");
    expect(decision.explanation).not.toContain(SECRET);
  });
});

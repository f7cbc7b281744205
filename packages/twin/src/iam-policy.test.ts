import { describe, expect, it } from "vitest";
import { type AccessCheck, createIamAuthority, type Grant, isAllowed, resourceMatches } from "./iam-policy";

const VAULT = "arn:aws:s3:::app-vault";
const SECRET = "arn:aws:secretsmanager:eu-west-2:000000000000:secret:app/dev/config-AbC123";
const WORKER = "arn:aws:lambda:eu-west-2:000000000000:function:app-dev-Worker";

/** The worker's grants in infra/functions.ts, with the stand-ins' ARNs. */
const workerGrants: Grant[] = [
  { actions: ["secretsmanager:GetSecretValue"], resources: [SECRET] },
  { actions: ["s3:ListBucket"], resources: [VAULT] },
  { actions: ["s3:GetObject", "s3:PutObject"], resources: [`${VAULT}/*`] },
];

describe("isAllowed", () => {
  it("allows exactly the granted actions on the granted resources", () => {
    expect(isAllowed(workerGrants, "s3:GetObject", `${VAULT}/records/1.json`)).toBe(true);
    expect(isAllowed(workerGrants, "s3:PutObject", `${VAULT}/records/1.json`)).toBe(true);
    expect(isAllowed(workerGrants, "s3:ListBucket", VAULT)).toBe(true);
    expect(isAllowed(workerGrants, "secretsmanager:GetSecretValue", SECRET)).toBe(true);
    expect(isAllowed(workerGrants, "s3:DeleteObject", `${VAULT}/records/1.json`)).toBe(false);
    // Objects and the bucket are different resources.
    expect(isAllowed(workerGrants, "s3:GetObject", VAULT)).toBe(false);
    expect(isAllowed(workerGrants, "s3:ListBucket", `${VAULT}/records/1.json`)).toBe(false);
    expect(isAllowed(workerGrants, "s3:GetObject", "arn:aws:s3:::app-audit/records/1.json")).toBe(false);
    expect(isAllowed(workerGrants, "lambda:InvokeFunction", WORKER)).toBe(false);
  });

  it("refuses everything with no grants, and ignores a grant with no actions or no resources", () => {
    expect(isAllowed([], "s3:GetObject", `${VAULT}/k`)).toBe(false);
    expect(isAllowed([{ actions: [], resources: ["*"] }], "s3:GetObject", `${VAULT}/k`)).toBe(false);
    expect(isAllowed([{ actions: ["*"], resources: [] }], "s3:GetObject", `${VAULT}/k`)).toBe(false);
  });

  it("matches actions case-insensitively, with * and ?", () => {
    const grant = (action: string) => [{ actions: [action], resources: ["*"] }];
    expect(isAllowed(grant("S3:getobject"), "s3:GetObject", `${VAULT}/k`)).toBe(true);
    expect(isAllowed(grant("s3:Get*"), "s3:GetObject", `${VAULT}/k`)).toBe(true);
    expect(isAllowed(grant("s3:get*"), "s3:GetObjectAcl", `${VAULT}/k`)).toBe(true);
    expect(isAllowed(grant("s3:Get*"), "s3:PutObject", `${VAULT}/k`)).toBe(false);
    expect(isAllowed(grant("s3:*"), "s3:DeleteObject", `${VAULT}/k`)).toBe(true);
    expect(isAllowed(grant("s3:*"), "secretsmanager:GetSecretValue", SECRET)).toBe(false);
    expect(isAllowed(grant("*"), "lambda:InvokeFunction", WORKER)).toBe(true);
    expect(isAllowed(grant("s3:?etObject"), "s3:GetObject", `${VAULT}/k`)).toBe(true);
    expect(isAllowed(grant("s3:?etObject"), "s3:PutObject", `${VAULT}/k`)).toBe(false);
    expect(isAllowed(grant("s3:?Object"), "s3:GetObject", `${VAULT}/k`)).toBe(false);
    // A prefix is not a match: `s3:Get` does not cover `s3:GetObject`.
    expect(isAllowed(grant("s3:Get"), "s3:GetObject", `${VAULT}/k`)).toBe(false);
  });

  it("matches resources case-sensitively, with * and ? (regex characters are literal)", () => {
    expect(resourceMatches(`${VAULT}/*`, `${VAULT}/a/b/c.json`)).toBe(true);
    expect(resourceMatches(`${VAULT}/*`, `${VAULT}/key:with:colons`)).toBe(true);
    expect(resourceMatches(`${VAULT}/*`, "arn:aws:s3:::app-vault/")).toBe(true);
    expect(resourceMatches(`${VAULT}/*`, VAULT)).toBe(false);
    expect(resourceMatches(`${VAULT}/records/*`, `${VAULT}/RECORDS/1.json`)).toBe(false);
    expect(resourceMatches(`${VAULT}*`, `${VAULT}/k`)).toBe(true);
    expect(resourceMatches(`${VAULT}*`, `${VAULT}-other`)).toBe(true);
    expect(resourceMatches(`${VAULT}/r?.json`, `${VAULT}/r1.json`)).toBe(true);
    expect(resourceMatches(`${VAULT}/r?.json`, `${VAULT}/r12.json`)).toBe(false);
    expect(resourceMatches(`${VAULT}/a.b`, `${VAULT}/aXb`)).toBe(false);
    expect(resourceMatches(`${VAULT}/(a)+[b]`, `${VAULT}/(a)+[b]`)).toBe(true);
    expect(resourceMatches("ARN:AWS:S3:::app-vault", VAULT)).toBe(false);
  });

  it("matches Secrets Manager ARNs by their random suffix, as grants write them", () => {
    const base = "arn:aws:secretsmanager:eu-west-2:000000000000:secret:app/dev/config";
    expect(resourceMatches(`${base}-??????`, SECRET)).toBe(true);
    expect(resourceMatches(`${base}-*`, SECRET)).toBe(true);
    expect(resourceMatches(base, SECRET)).toBe(false);
    expect(resourceMatches(`${base}-??????`, `${base}-extra-AbC123`)).toBe(false);
  });

  it("keeps resource wildcards within a segment, except a * that ends one", () => {
    expect(resourceMatches("arn:aws:lambda:*:*:function:app-dev-*", WORKER)).toBe(true);
    expect(resourceMatches("arn:aws:lambda:eu-*-2:000000000000:function:*", WORKER)).toBe(true);
    expect(resourceMatches("arn:aws:lambda:us-*-2:000000000000:function:*", WORKER)).toBe(false);
    // A * ending a segment runs on past colons: an alias, or the rest of the ARN.
    expect(resourceMatches("arn:aws:lambda:*:*:function:app-dev-*", `${WORKER}:live`)).toBe(true);
    expect(resourceMatches("arn:aws:lambda:eu-west-*:function:app-dev-Worker", WORKER)).toBe(true);
    expect(resourceMatches("arn:aws:lambda:*", WORKER)).toBe(true);
    expect(resourceMatches("*", WORKER)).toBe(true);
    // Inside a segment it does not, nor does ?.
    expect(resourceMatches("arn:aws:lambda:eu-*2:function:app-dev-Worker", WORKER)).toBe(false);
    expect(resourceMatches(`${VAULT}/*.json`, `${VAULT}/a/b.json`)).toBe(true);
    expect(resourceMatches(`${VAULT}/*.json`, `${VAULT}/a:b.json`)).toBe(false);
    expect(resourceMatches(`${VAULT}/a?b`, `${VAULT}/a:b`)).toBe(false);
    // The bare function ARN does not cover a qualified invocation, as on AWS.
    expect(resourceMatches(WORKER, `${WORKER}:live`)).toBe(false);
    expect(resourceMatches(`${WORKER}:*`, `${WORKER}:live`)).toBe(true);
    expect(resourceMatches(`${WORKER}:*`, WORKER)).toBe(false);
  });
});

describe("createIamAuthority", () => {
  it("answers per access key id and records every check", () => {
    const seen: AccessCheck[] = [];
    const authority = createIamAuthority({ onCheck: (check) => seen.push(check) });
    authority.addPrincipal("AKIDWORKER", { name: "Worker", grants: workerGrants });
    authority.addPrincipal("AKIDRESOLVE", {
      name: "Resolve",
      grants: [{ actions: ["lambda:InvokeFunction"], resources: [WORKER] }],
    });

    expect(authority.authorize("AKIDWORKER", "s3:GetObject", `${VAULT}/k`)).toEqual({
      accessKeyId: "AKIDWORKER",
      principal: "Worker",
      action: "s3:GetObject",
      resource: `${VAULT}/k`,
      allowed: true,
    });
    expect(authority.authorize("AKIDRESOLVE", "s3:GetObject", `${VAULT}/k`)).toMatchObject({
      principal: "Resolve",
      allowed: false,
    });
    expect(authority.authorize("AKIDRESOLVE", "lambda:InvokeFunction", WORKER).allowed).toBe(true);
    expect(authority.checks.map((c) => [c.principal, c.action, c.allowed])).toEqual([
      ["Worker", "s3:GetObject", true],
      ["Resolve", "s3:GetObject", false],
      ["Resolve", "lambda:InvokeFunction", true],
    ]);
    expect(seen).toEqual(authority.checks);
  });

  it("refuses an unknown access key id with no principal, whatever the action", () => {
    const authority = createIamAuthority();
    authority.addPrincipal("AKIDADMIN", { name: "Admin", grants: [{ actions: ["*"], resources: ["*"] }] });
    expect(authority.authorize("STANDIN", "s3:GetObject", `${VAULT}/k`)).toEqual({
      accessKeyId: "STANDIN",
      principal: undefined,
      action: "s3:GetObject",
      resource: `${VAULT}/k`,
      allowed: false,
    });
    expect(authority.authorize("akidadmin", "s3:GetObject", `${VAULT}/k`).principal).toBeUndefined();
    expect(authority.authorize("AKIDADMIN", "s3:GetObject", `${VAULT}/k`).allowed).toBe(true);
  });

  it("gives an access key id to the last principal it was added for", () => {
    const authority = createIamAuthority();
    authority.addPrincipal("AKID", { name: "Old", grants: [{ actions: ["*"], resources: ["*"] }] });
    authority.addPrincipal("AKID", { name: "New", grants: [] });
    expect(authority.authorize("AKID", "s3:GetObject", `${VAULT}/k`)).toMatchObject({
      principal: "New",
      allowed: false,
    });
  });
});

import { describe, expect, it } from "vitest";
import type { Directory } from "../ports";
import { createStaticDirectory } from "../security/static-directory";
import { decide } from "./decide";
import { defaultPolicy, SRE_GROUP_ID, SRE_SUBJECT, withSreGroup } from "./default-policy";
import { parsePolicy } from "./policy-file";
import { createStaticSubjectDirectory } from "./subject-directory";

const sre = withSreGroup(createStaticDirectory("alice@example.com"));
const ask = (email: string, command: string[], channel = { id: "C0ANY", isDm: false }) =>
  decide(defaultPolicy(), { user: { slackId: "U0X", email }, channel, command }, sre);

describe("defaultPolicy: today's behaviour through the same decision", () => {
  it("the SRE group may run every command, in any channel and in DMs", async () => {
    for (const command of [["config", "view"], ["deadletter", "delete", "x"], ["--help"], []]) {
      for (const channel of [
        { id: "C0ANY", isDm: false },
        { id: "D0DM", isDm: true },
      ]) {
        expect(await ask("Alice@Example.com", command, channel)).toMatchObject({
          outcome: "allow",
          ruleIndex: 0,
          subject: SRE_SUBJECT,
        });
      }
    }
  });

  it("anyone else is refused, told who may", async () => {
    expect(await ask("eve@example.com", ["config", "view"])).toMatchObject({
      outcome: "refuse",
      reason: "not-allowed",
      message: { text: "Only the SRE group may run `config view`." },
    });
  });

  it("a failing SRE directory refuses (fail closed), as the authorization chain does", async () => {
    const down: Directory = {
      async isMember() {
        throw new Error("Graph is unavailable");
      },
    };
    const decision = await decide(
      defaultPolicy(),
      {
        user: { slackId: "U0X", email: "alice@example.com" },
        channel: { id: "C1", isDm: false },
        command: ["x"],
      },
      withSreGroup(down),
    );
    expect(decision).toMatchObject({ outcome: "refuse", reason: "lookup-failed" });
  });

  it("is a fresh, well-formed policy each time", () => {
    const policy = defaultPolicy();
    expect(policy).not.toBe(defaultPolicy());
    expect(policy.subjects.get(SRE_SUBJECT)?.entraGroups).toEqual([SRE_GROUP_ID]);
    expect(policy.rules).toEqual([
      expect.objectContaining({ kind: "allow", commands: [{ text: "*", words: [] }], channels: null }),
    ]);
  });
});

describe("withSreGroup", () => {
  it("answers the SRE stand-in id from the SRE directory and passes other groups on", async () => {
    const groups = createStaticSubjectDirectory({ g1: ["bob@example.com"] });
    const dir = withSreGroup(createStaticDirectory("alice@example.com"), groups);
    expect(await dir.inGroup(SRE_GROUP_ID, "alice@example.com")).toBe(true);
    expect(await dir.inGroup(SRE_GROUP_ID, "bob@example.com")).toBe(false);
    expect(await dir.inGroup("g1", "bob@example.com")).toBe(true);
    await expect(withSreGroup(createStaticDirectory("a@b.c")).inGroup("g1", "a@b.c")).rejects.toThrow(
      /Microsoft Graph is not configured/,
    );
  });

  it("a policy file cannot name the SRE stand-in id", () => {
    expect(() =>
      parsePolicy(
        `subjects: { s: { entraGroups: ["${SRE_GROUP_ID}"] } }\nrules: [{ commands: ['*'], allow: [s] }]\n`,
        "p",
      ),
    ).toThrow(/subjects\.s\.entraGroups\[0\]: expected a group's object id/);
  });
});

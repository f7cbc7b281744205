import { describe, expect, it } from "vitest";
import type { SubscriptionRules } from "./bus";
import { guardedExpression, replayRouting, rulePlan } from "./subscription-replay";

const sql = (name: string, expression: string) => ({ name, filter: { kind: "sql" as const, expression } });
const replayRule = (subscription: string) =>
  sql("victoria-replay", `"x-victoria-replay-to" = '${subscription}'`);

const untouched: SubscriptionRules[] = [
  { name: "audit", rules: [sql("$Default", "1=1")] },
  { name: "billing", rules: [sql("eu", "region = 'eu' OR vip = 1")] },
  { name: "ops", rules: [{ name: "gold", filter: { kind: "correlation", summary: "tier=gold" } }] },
];

describe("replayRouting", () => {
  it("is not safe on a topic without the rules, and says what is missing and who else would get it", () => {
    const routing = replayRouting(untouched, "audit");
    expect(routing).toEqual({
      safe: false,
      missing: [
        `'audit' has no rule victoria-replay: "x-victoria-replay-to" = 'audit'`,
        `'billing' rule 'eu' is not guarded with AND "x-victoria-replay-to" IS NULL`,
        `'ops' rule 'gold' is a correlation filter, which cannot keep replays out`,
      ],
      others: ["billing", "ops"],
    });
  });

  it("is safe once the target has its rule and every other rule is guarded", () => {
    const topic: SubscriptionRules[] = [
      { name: "audit", rules: [sql("$Default", "1=1"), replayRule("audit")] },
      {
        name: "billing",
        rules: [sql("eu", guardedExpression("region = 'eu' OR vip = 1")), replayRule("billing")],
      },
      { name: "ops", rules: [sql("$Default", `"x-victoria-replay-to"   IS NULL`), sql("never", "1=0")] },
    ];
    expect(replayRouting(topic, "audit")).toEqual({ safe: true, others: ["billing", "ops"] });
    // Ops lacks its own rule, and audit's unguarded $Default would take a replay meant for ops.
    expect(replayRouting(topic, "ops")).toEqual({
      safe: false,
      missing: [
        `'ops' has no rule victoria-replay: "x-victoria-replay-to" = 'ops'`,
        `'audit' rule '$Default' is not guarded with AND "x-victoria-replay-to" IS NULL`,
      ],
      others: ["audit", "billing"],
    });
  });

  it("does not take another subscription's replay rule for this one's", () => {
    const topic: SubscriptionRules[] = [
      { name: "audit", rules: [replayRule("billing")] },
      { name: "billing", rules: [replayRule("billing")] },
    ];
    expect(replayRouting(topic, "audit").safe).toBe(false);
  });

  it("names a subscription that no longer exists", () => {
    expect(replayRouting(untouched, "gone")).toMatchObject({
      safe: false,
      missing: expect.arrayContaining([expect.stringMatching(/'gone' no longer exists/)]),
      others: ["audit", "billing", "ops"],
    });
  });
});

describe("rulePlan", () => {
  it("adds replay rules, guards SQL rules, and leaves correlation filters to the operator", () => {
    expect(rulePlan(untouched)).toEqual([
      {
        kind: "create",
        subscription: "audit",
        rule: "victoria-replay",
        expression: `"x-victoria-replay-to" = 'audit'`,
      },
      {
        kind: "update",
        subscription: "audit",
        rule: "$Default",
        from: "1=1",
        expression: `"x-victoria-replay-to" IS NULL`,
      },
      {
        kind: "create",
        subscription: "billing",
        rule: "victoria-replay",
        expression: `"x-victoria-replay-to" = 'billing'`,
      },
      {
        kind: "update",
        subscription: "billing",
        rule: "eu",
        from: "region = 'eu' OR vip = 1",
        expression: `(region = 'eu' OR vip = 1) AND "x-victoria-replay-to" IS NULL`,
      },
      {
        kind: "create",
        subscription: "ops",
        rule: "victoria-replay",
        expression: `"x-victoria-replay-to" = 'ops'`,
      },
      expect.objectContaining({ kind: "manual", subscription: "ops", rule: "gold" }),
    ]);
  });

  it("quotes a subscription name with a quote in it", () => {
    expect(rulePlan([{ name: "o'brien", rules: [] }])).toEqual([
      expect.objectContaining({ expression: `"x-victoria-replay-to" = 'o''brien'` }),
    ]);
  });
});

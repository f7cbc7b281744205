import type { Bus, SubscriptionRules } from "./bus";
import { EntityNotFoundError } from "./bus";
import { connectionFor } from "./service-bus-connections";
import { type RuleChange, rulePlan } from "./subscription-replay";

/**
 * `victoria deadletter rules check|install <cluster> <topic>`: the rules a topic needs so that a
 * subscription's dead letter can be replayed to that subscription alone (subscription-replay.ts).
 * Install changes SQL filters only and is idempotent (a second run finds nothing to change);
 * correlation filters are reported for the operator to convert.
 */
export type RulesReport =
  | {
      ok: true;
      topic: string;
      subscriptions: SubscriptionRules[];
      /** Still to do (check), or left for the operator (install: only `manual` ones remain). */
      changes: RuleChange[];
      /** Install only: what it changed. */
      applied?: RuleChange[];
    }
  | { ok: false; reason: "unconfigured" | "missing"; message: string };

export interface SubscriptionRuleAdmin {
  check(cluster: string, topic: string): Promise<RulesReport>;
  install(cluster: string, topic: string): Promise<RulesReport>;
}

export interface SubscriptionRuleAdminDeps {
  bus: Pick<Bus, "subscriptionRules" | "putSqlRule">;
  connections: Readonly<Record<string, string>>;
  /** Why there is no connection here, and what to do (as for replay). */
  noConnection(cluster: string): string;
}

export function createSubscriptionRuleAdmin(deps: SubscriptionRuleAdminDeps): SubscriptionRuleAdmin {
  async function read(cluster: string, topic: string) {
    const connection = connectionFor(deps.connections, cluster);
    if (connection === undefined) {
      return { ok: false as const, reason: "unconfigured" as const, message: deps.noConnection(cluster) };
    }
    try {
      const subscriptions = await deps.bus.subscriptionRules(connection, topic);
      return { ok: true as const, connection, subscriptions };
    } catch (error) {
      if (error instanceof EntityNotFoundError) {
        return {
          ok: false as const,
          reason: "missing" as const,
          message: `Topic '${topic}' does not exist on cluster '${cluster}'.`,
        };
      }
      throw error;
    }
  }

  return {
    async check(cluster, topic) {
      const found = await read(cluster, topic);
      if (!found.ok) return found;
      return { ok: true, topic, subscriptions: found.subscriptions, changes: rulePlan(found.subscriptions) };
    },
    async install(cluster, topic) {
      const found = await read(cluster, topic);
      if (!found.ok) return found;
      const planned = rulePlan(found.subscriptions);
      // Guards first, then the replay rules: ordinary traffic is never changed on the way.
      type Write = Extract<RuleChange, { kind: "update" | "create" }>;
      const writes = [
        ...planned.filter((c): c is Write => c.kind === "update"),
        ...planned.filter((c): c is Write => c.kind === "create"),
      ];
      const applied: RuleChange[] = [];
      for (const change of writes) {
        await deps.bus.putSqlRule(found.connection, topic, change.subscription, {
          name: change.rule,
          expression: change.expression,
        });
        applied.push(change);
      }
      const after = await read(cluster, topic);
      if (!after.ok) return after;
      return {
        ok: true,
        topic,
        subscriptions: after.subscriptions,
        changes: rulePlan(after.subscriptions),
        applied,
      };
    },
  };
}

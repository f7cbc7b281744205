import type { Bus, OutgoingMessage, SubscriptionRules } from "./bus";
import { type EntityRef, entityPath } from "./dead-letter";
import type { ActionOutcome } from "./dead-letter-actions-types";
import { connectionFor } from "./service-bus-connections";
import { REPLAY_TO_PROPERTY, replayRouting } from "./subscription-replay";
import type { VaultRecord } from "./vault";

/*
 * The replay effect's routing for topic subscriptions (see subscription-replay.ts): checked
 * before the record is claimed, so a refused replay leaves the record exactly as it was.
 */

export interface SubscriptionReplayDeps {
  bus: Pick<Bus, "subscriptionRules">;
  connections: Readonly<Record<string, string>>;
}

/**
 * Topic rules already read, by cluster and topic, shared by the replays that are given it: a bulk
 * job gives a fresh one to each batch, so the batch reads a topic's rules once (however many of its
 * records replay at once) rather than once a record. A replay given none — a single one, a button —
 * reads the rules right before it sends.
 */
export type TopicRulesMemo = Map<string, Promise<SubscriptionRules[]>>;

function topicRules(
  deps: SubscriptionReplayDeps,
  connection: string,
  record: Pick<VaultRecord, "cluster">,
  topic: string,
  memo: TopicRulesMemo | undefined,
): Promise<SubscriptionRules[]> {
  if (!memo) return deps.bus.subscriptionRules(connection, topic);
  const key = `${record.cluster}\u0000${topic}`;
  let read = memo.get(key);
  if (!read) {
    read = deps.bus.subscriptionRules(connection, topic);
    memo.set(key, read);
    // A failed read is not kept: the batch's next record reads again.
    read.catch(() => memo.delete(key));
  }
  return read;
}

const MAX_LISTED = 10;

function listed(names: readonly string[]): string {
  if (names.length === 0) return "no other subscription";
  const shown = names.slice(0, MAX_LISTED).map((name) => `'${name}'`);
  const more = names.length > MAX_LISTED ? ` and ${names.length - MAX_LISTED} more` : "";
  return `${shown.join(", ")}${more}`;
}

/**
 * Refuses (reason `unsafe-topic`) a replay of a parked subscription's dead letter whose topic lacks
 * the rules that keep it to that subscription, naming what is missing and who a topic-wide replay
 * would reach. Undefined when the replay may go ahead (a queue, `toTopic`, the rules in place, or no
 * connection, which the action itself refuses). Runs before the record is claimed.
 */
export async function refuseUnsafeSubscriptionReplay(
  deps: SubscriptionReplayDeps,
  record: VaultRecord,
  options: { toTopic?: boolean; topicRules?: TopicRulesMemo },
): Promise<Extract<ActionOutcome, { ok: false }> | undefined> {
  if (options.toTopic) return undefined;
  const { entity } = record;
  if (entity.kind !== "subscription") return undefined;
  const connection = connectionFor(deps.connections, record.cluster);
  if (connection === undefined) return undefined;
  let routing: ReturnType<typeof replayRouting>;
  try {
    const rules = await topicRules(deps, connection, record, entity.topic, options.topicRules);
    routing = replayRouting(rules, entity.subscription);
  } catch (error) {
    return {
      ok: false,
      reason: "failed",
      message: `Could not read the rules of topic '${entity.topic}' to replay to '${entity.subscription}' alone: ${(error as Error).message}. It is still parked; try again.`,
      record,
    };
  }
  if (routing.safe) return undefined;
  return {
    ok: false,
    reason: "unsafe-topic",
    message:
      `Not replayed: Service Bus cannot send to subscription '${entity.subscription}' alone, and topic '${entity.topic}' lacks the rules that would keep a replay to it: ` +
      `${routing.missing.join("; ")}. Install them with \`victoria deadletter rules install ${record.cluster} ${entity.topic}\`, ` +
      `or replay to the whole topic, which ${listed(routing.others)} would receive too.`,
    record,
    topicReplay: { topic: entity.topic, subscription: entity.subscription, others: routing.others },
  };
}

/** Where a replay goes and with what: a subscription's replay names it in `x-victoria-replay-to`. */
export function replayDestination(
  entity: EntityRef,
  message: OutgoingMessage,
  options: { toTopic?: boolean },
): { target: string; message: OutgoingMessage; detail: string } {
  if (entity.kind === "queue")
    return { target: entity.queue, message, detail: `sent back to ${entity.queue}` };
  if (options.toTopic) {
    // An earlier replay's property would keep this one to a single subscription: drop it.
    const { [REPLAY_TO_PROPERTY]: _earlier, ...properties } = message.applicationProperties ?? {};
    return {
      target: entity.topic,
      message: { ...message, applicationProperties: properties },
      detail: `sent to the whole topic ${entity.topic} (every subscription)`,
    };
  }
  return {
    target: entity.topic,
    message: {
      ...message,
      applicationProperties: { ...message.applicationProperties, [REPLAY_TO_PROPERTY]: entity.subscription },
    },
    detail: `sent back to ${entityPath(entity)} only (through ${entity.topic}, ${REPLAY_TO_PROPERTY})`,
  };
}

import type { ActionOutcome, DeadLetterActions } from "../deadletter/dead-letter-actions-types";
import type { MetricName } from "./metric-names";
import type { Metrics } from "./metrics";

/**
 * The dead-letter operations, also counting what they did: DeadLettersReplayed (repairs and topic
 * replays included), DeadLettersDeleted, DeadLettersEmailed, once per record acted on. A refused
 * or failed action (someone was first, the limit, a Service Bus error) counts nothing.
 */
export function countingDeadLetterActions(actions: DeadLetterActions, metrics: Metrics): DeadLetterActions {
  const counted = async (name: MetricName & `DeadLetters${string}`, outcome: Promise<ActionOutcome>) => {
    const done = await outcome;
    if (done.ok) metrics.add(name, 1);
    return done;
  };
  return {
    ...actions,
    replay: (ref, by, options) => counted("DeadLettersReplayed", actions.replay(ref, by, options)),
    delete: (ref, by, note, options) => counted("DeadLettersDeleted", actions.delete(ref, by, note, options)),
    email: (ref, to, by, note, options) =>
      counted("DeadLettersEmailed", actions.email(ref, to, by, note, options)),
  };
}

import type { Chat } from "../ports";
import type { Metrics } from "./metrics";

type NotificationMethod = "postMessage" | "updateMessage";

/**
 * A Slack client whose failed notification calls (a post, a `chat.update`) count as
 * NotificationFailures; the error still reaches the caller, which decides what to do about it.
 * Give it only to the parts that notify about dead letters (the drain, the redraws): a failed
 * reply to a command is not a notification. `methods` narrows it further (a button's handler
 * posts replies too, but its `chat.update` is the notification's redraw).
 */
export function countingNotificationFailures<C extends Partial<Pick<Chat, NotificationMethod>>>(
  chat: C,
  metrics: Metrics,
  methods: readonly NotificationMethod[] = ["postMessage", "updateMessage"],
): C {
  const wrapped = new Map<PropertyKey, (...args: unknown[]) => Promise<unknown>>();
  for (const method of methods) {
    const call = chat[method] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    if (!call) continue;
    wrapped.set(method, async (...args: unknown[]) => {
      try {
        return await call.apply(chat, args);
      } catch (error) {
        metrics.add("NotificationFailures", 1);
        throw error;
      }
    });
  }
  // A proxy, so a client whose methods live on its prototype keeps every other one.
  return new Proxy(chat, {
    get: (target, property, receiver) => wrapped.get(property) ?? Reflect.get(target, property, receiver),
  });
}

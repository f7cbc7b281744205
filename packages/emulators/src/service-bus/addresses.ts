/**
 * Link addresses as the SDK writes them: `queue`, `topic`, `topic/Subscriptions/sub`, each
 * optionally followed by `/$DeadLetterQueue` and/or `/$management`; `$cbs` for token exchange.
 * Entity names are case-insensitive in Service Bus, so lookups use `entityKey`.
 */
export const CBS_ADDRESS = "$cbs";
const DEAD_LETTER_SEGMENT = "$deadletterqueue";
const MANAGEMENT_SEGMENT = "$management";

export interface ParsedAddress {
  /** The queue, topic or `topic/Subscriptions/sub` the address is about. */
  entityPath: string;
  /** Addresses the entity's dead-letter subqueue. */
  deadLetter: boolean;
  /** Addresses the entity's `$management` node. */
  management: boolean;
}

/** Strips an `sb://host/` or `amqps://host/` prefix, should a client send absolute addresses. */
function relative(address: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/]*\/(.*)$/i.exec(address);
  return match?.[1] ?? address;
}

/** Undefined for anything that cannot name an entity (wrong shape, empty). */
export function parseAddress(address: string): ParsedAddress | undefined {
  const segments = relative(address)
    .split("/")
    .filter((s) => s.length > 0);
  let management = false;
  let deadLetter = false;
  if (segments.at(-1)?.toLowerCase() === MANAGEMENT_SEGMENT) {
    management = true;
    segments.pop();
  }
  if (segments.at(-1)?.toLowerCase() === DEAD_LETTER_SEGMENT) {
    deadLetter = true;
    segments.pop();
  }
  const isEntity =
    segments.length === 1 || (segments.length === 3 && segments[1]?.toLowerCase() === "subscriptions");
  if (!isEntity) return undefined;
  return { entityPath: segments.join("/"), deadLetter, management };
}

/** The case-insensitive key of `queue` or `topic/Subscriptions/sub`. */
export function entityKey(entityPath: string): string {
  return entityPath.toLowerCase();
}

export function subscriptionPath(topic: string, subscription: string): string {
  return `${topic}/Subscriptions/${subscription}`;
}

export function deadLetterPath(entityPath: string): string {
  return `${entityPath}/$DeadLetterQueue`;
}

import { entityPath, type MessageBody, type PropertyValue } from "./dead-letter";
import type { VaultRecord, VaultState } from "./vault";

/**
 * Which vault records a listing, a search or a bulk action covers. Every field narrows; none given
 * means every record. Text matches are case-insensitive substrings, as in Service Bus Explorer's
 * search box; `where` compares a property's value as text, exactly.
 */
export interface RecordFilter {
  state?: VaultState;
  cluster?: string;
  /** Entity path, e.g. `orders` or `events/Subscriptions/audit`. */
  entity?: string;
  /** The notification that covers the record (the resolver's "Replay all"). */
  notificationId?: string;
  /** Covered by a posted notification (true), or not yet (false). */
  notified?: boolean;
  /** Already named in its reminder (true), or not yet (false): what the reminder sweep asks for. */
  reminded?: boolean;
  /** In the dead-letter reason or its description. */
  reason?: string;
  /** Parked at or after this instant (ISO-8601). */
  since?: string;
  /** Parked before this instant (ISO-8601). */
  until?: string;
  /** Application properties that must all hold these values (compared as text). */
  where?: readonly { key: string; value: string }[];
  /** In the body, as text (bytes decoded as UTF-8, JSON as written). */
  grep?: string;
}

/** A page of a listing: at most `limit` records, after the one the cursor `after` names. */
export interface PageRequest {
  limit: number;
  /** `next` of the previous page; absent for the first page. */
  after?: string;
}

export interface RecordPage {
  records: VaultRecord[];
  /** Pass as `after` for the next page; absent on the last page. */
  next?: string;
}

/** The text `--grep` searches: what a person would see of the body. */
export function bodyText(body: MessageBody): string {
  switch (body.kind) {
    case "text":
      return body.text;
    case "json":
      return JSON.stringify(body.value);
    case "bytes":
      return Buffer.from(body.base64, "base64").toString("utf8");
    case "empty":
      return "";
  }
}

/** A property value as `--where key=value` compares it. */
export function propertyText(value: PropertyValue | undefined): string | undefined {
  return value === undefined ? undefined : value === null ? "null" : String(value);
}

const contains = (text: string | undefined, part: string) =>
  (text ?? "").toLowerCase().includes(part.toLowerCase());

/** Whether `record` passes every narrowing of `filter`. */
export function matchesFilter(record: VaultRecord, filter: RecordFilter): boolean {
  const m = record.message;
  if (filter.state !== undefined && record.state !== filter.state) return false;
  if (filter.cluster !== undefined && record.cluster !== filter.cluster) return false;
  if (filter.entity !== undefined && entityPath(record.entity) !== filter.entity) return false;
  if (filter.notificationId !== undefined && record.notification?.id !== filter.notificationId) return false;
  if (filter.notified !== undefined && (record.notification !== undefined) !== filter.notified) return false;
  if (filter.reminded !== undefined && (record.remindedAt !== undefined) !== filter.reminded) return false;
  if (
    filter.reason !== undefined &&
    !contains(m.deadLetterReason, filter.reason) &&
    !contains(m.deadLetterErrorDescription, filter.reason)
  )
    return false;
  const parked = Date.parse(record.parkedAt);
  if (filter.since !== undefined && !(parked >= Date.parse(filter.since))) return false;
  if (filter.until !== undefined && !(parked < Date.parse(filter.until))) return false;
  for (const { key, value } of filter.where ?? []) {
    if (propertyText(m.applicationProperties[key]) !== value) return false;
  }
  return filter.grep === undefined || contains(bodyText(m.body), filter.grep);
}

/** Newest-first position of a record: what a cursor remembers. */
interface Position {
  parkedAt: string;
  id: string;
}

/** Whether `a` comes before `b` newest first (by instant, then text, then id; as `newestFirst`). */
export function comesBefore(a: Position, b: Position): boolean {
  const byTime = (Date.parse(a.parkedAt) || 0) - (Date.parse(b.parkedAt) || 0);
  if (byTime !== 0) return byTime > 0;
  if (a.parkedAt !== b.parkedAt) return a.parkedAt > b.parkedAt;
  return a.id > b.id;
}

/** An opaque cursor naming the last record of a page. */
export function cursorOf(record: Position): string {
  return Buffer.from(JSON.stringify([record.parkedAt, record.id]), "utf8").toString("base64url");
}

/** The position a cursor names; undefined for anything that is not one of ours. */
export function positionOf(cursor: string): Position | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === "string" &&
      typeof value[1] === "string" &&
      /^[0-9a-f]{1,128}$/.test(value[1])
    )
      return { parkedAt: value[0], id: value[1] };
  } catch {
    // Not base64url JSON: not a cursor.
  }
  return undefined;
}

/**
 * One page of `sorted` (newest first, already filtered): the records after the cursor's, at most
 * `limit`, and the cursor of the last one when more follow.
 */
export function pageOf<T extends Position>(
  sorted: readonly T[],
  page: PageRequest,
): { items: T[]; next?: string } {
  const from = page.after === undefined ? undefined : positionOf(page.after);
  if (page.after !== undefined && from === undefined) throw new Error("Invalid page cursor");
  const start = from === undefined ? 0 : sorted.findIndex((r) => comesBefore(from, r));
  const rest = start < 0 ? [] : sorted.slice(start);
  const items = rest.slice(0, Math.max(0, page.limit));
  const last = items.at(-1);
  return rest.length > items.length && last ? { items, next: cursorOf(last) } : { items };
}

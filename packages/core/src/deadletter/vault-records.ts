import { createHash } from "node:crypto";
import { currentRequestId } from "../logging/request-context";
import { matchesFilter, type PageRequest, pageOf, type RecordFilter, type RecordPage } from "./record-filter";
import type { NewVaultRecord, TransitionResult, Vault, VaultRecord, VaultState } from "./vault";

// What every Vault adapter does the same way with records, whatever stores them: the id rule, the
// shape of a new record, validating a stored one, filtering and ordering a listing, and the two
// updates built on the adapter's own read-modify-write.

const STATES: ReadonlySet<string> = new Set<VaultState>(["parked", "replayed", "emailed", "deleted"]);

/**
 * Only the fields a new record has: a caller passing a whole VaultRecord cannot smuggle in state.
 * `parkedBy` is the caller's, else the current request's (the drain runs under the alert's id).
 */
export function newRecord(fresh: NewVaultRecord): VaultRecord {
  const { id, cluster, namespace, entity, parkedAt, message } = fresh;
  const requestId = fresh.parkedBy?.requestId ?? currentRequestId();
  return {
    id,
    cluster,
    namespace,
    entity,
    parkedAt,
    ...(requestId === undefined ? {} : { parkedBy: { requestId } }),
    state: "parked",
    version: 1,
    message,
  };
}

export function isId(id: string): boolean {
  return /^[0-9a-f]{1,128}$/.test(id);
}

/** A prefix of an id (empty included): what `idsWithPrefix` may search for. */
export function isIdPrefix(prefix: string): boolean {
  return /^[0-9a-f]{0,128}$/.test(prefix);
}

/**
 * A message id as a fixed-length hex name, for an index keyed by it: message ids are up to 128
 * characters of anything (`/`, `..`, unicode), which must never become part of a path or key.
 */
export function messageIdDigest(messageId: string): string {
  return createHash("sha256").update(messageId, "utf8").digest("hex").slice(0, 32);
}

export function checkId(id: string): void {
  if (!isId(id)) throw new Error(`Invalid vault record id ${JSON.stringify(id)}: expected lowercase hex`);
}

/** The id in a stored record's name, `<id>.json`; undefined for anything else (temp and lock files). */
export function recordIdOf(name: string): string | undefined {
  return /^([0-9a-f]+)\.json$/.exec(name)?.[1];
}

/** Parses a stored record, failing with a message that names it rather than a bare SyntaxError. */
export function parseRecord(id: string, text: string, where: string): VaultRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`Vault record ${id} is corrupt (${where}): not valid JSON`);
  }
  const record = value as Partial<VaultRecord> | null;
  const problem =
    typeof record !== "object" || record === null || Array.isArray(record)
      ? "not a JSON object"
      : record.id !== id
        ? `it holds id ${JSON.stringify(record.id)}`
        : !STATES.has(String(record.state))
          ? `unknown state ${JSON.stringify(record.state)}`
          : !Number.isInteger(record.version)
            ? "no integer version"
            : typeof record.message !== "object" || record.message === null
              ? "no message"
              : undefined;
  if (problem) throw new Error(`Vault record ${id} is corrupt (${where}): ${problem}`);
  return record as VaultRecord;
}

/** A page of `records` (any order) that match `filter`: what a vault without an index answers. */
export function scanPage(records: VaultRecord[], filter: RecordFilter, page: PageRequest): RecordPage {
  const { items, next } = pageOf(newestFirst(records.filter((r) => matchesFilter(r, filter))), page);
  return next === undefined ? { records: items } : { records: items, next };
}

/** Newest first: by `parkedAt` (as instants, so precision differences do not matter), then by id. */
export function newestFirst(records: VaultRecord[]): VaultRecord[] {
  const time = (r: VaultRecord) => Date.parse(r.parkedAt);
  return records.sort((a, b) => {
    const byTime = (time(b) || 0) - (time(a) || 0);
    if (byTime !== 0) return byTime;
    if (a.parkedAt !== b.parkedAt) return a.parkedAt < b.parkedAt ? 1 : -1;
    return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
  });
}

/**
 * An adapter's read-modify-write of one record: `change` answers the new record, or undefined to
 * leave it as it is. Resolves to undefined when there is no such record.
 */
export type UpdateRecord = (
  id: string,
  change: (current: VaultRecord) => VaultRecord | undefined,
) => Promise<{ record: VaultRecord; changed: boolean } | undefined>;

/** `markNotified`, `markReminded` and `transition`, on top of the adapter's `update`. */
export function recordUpdates(
  update: UpdateRecord,
): Pick<Vault, "markNotified" | "markReminded" | "transition"> {
  return {
    async markReminded(id, at) {
      if (!isId(id)) return false;
      const result = await update(id, ({ remindedAt, ...current }) => {
        if (at === null)
          return remindedAt === undefined ? undefined : { ...current, version: current.version + 1 };
        return remindedAt === undefined
          ? { ...current, remindedAt: at, version: current.version + 1 }
          : undefined;
      });
      return result?.changed === true;
    },

    async markNotified(id, notification) {
      checkId(id);
      const result = await update(id, (current) => ({
        ...current,
        notification,
        version: current.version + 1,
      }));
      if (!result) throw new Error(`Vault record ${id} does not exist`);
      return result.record;
    },

    async transition(id, from, to, given, repair): Promise<TransitionResult> {
      if (!isId(id)) return { ok: false, current: undefined };
      // Stamped here, so every way of resolving (button, command, bulk job) names its request.
      const requestId = given.requestId ?? currentRequestId();
      const resolution = requestId === undefined ? given : { ...given, requestId };
      const result = await update(id, ({ repair: _previous, ...current }) =>
        current.state === from
          ? { ...current, state: to, resolution, ...(repair ? { repair } : {}), version: current.version + 1 }
          : undefined,
      );
      if (!result) return { ok: false, current: undefined };
      return result.changed ? { ok: true, record: result.record } : { ok: false, current: result.record };
    },
  };
}

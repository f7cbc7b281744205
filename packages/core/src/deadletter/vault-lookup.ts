import { entityPath } from "./dead-letter";
import type { Vault, VaultRecord } from "./vault";
import { newestFirst } from "./vault-records";

/** Fewer hex digits than this are not taken as an id prefix: too many records would share them. */
export const MIN_ID_PREFIX = 4;
/** How many candidates an ambiguous reference lists. */
export const MAX_CANDIDATES = 5;

export type RecordLookup =
  | { ok: true; record: VaultRecord }
  | {
      ok: false;
      /** missing: nothing matches; ambiguous: more than one record does (a usage error: say more). */
      reason: "missing" | "ambiguous";
      message: string;
      /** For `ambiguous`: up to MAX_CANDIDATES of the records it could mean, newest first. */
      candidates: VaultRecord[];
    };

/**
 * The record a person means by `ref`: its whole id, a unique prefix of it (as the workbench and
 * `ls` show ids, at least MIN_ID_PREFIX hex digits, any case), or the Service Bus message id the
 * notification shows. A whole id costs one read; anything else one listing of each kind (see
 * `Vault.idsWithPrefix` and `Vault.findByMessageId`) plus the reads of what matched.
 */
export async function lookUpRecord(vault: Vault, ref: string): Promise<RecordLookup> {
  const exact = await vault.get(ref);
  if (exact) return { ok: true, record: exact };
  const prefix = ref.toLowerCase();
  const asPrefix = /^[0-9a-f]+$/.test(prefix) && prefix.length >= MIN_ID_PREFIX;
  // One more than is shown, to know whether there are more.
  const [ids, byMessage] = await Promise.all([
    asPrefix ? vault.idsWithPrefix(prefix, MAX_CANDIDATES + 1) : Promise.resolve([]),
    ref === "" ? Promise.resolve([]) : vault.findByMessageId(ref, MAX_CANDIDATES + 1),
  ]);
  const found = new Map(byMessage.map((r) => [r.id, r]));
  const unread = ids.filter((id) => !found.has(id)).slice(0, Math.max(0, MAX_CANDIDATES + 1 - found.size));
  for (const record of await Promise.all(unread.map((id) => vault.get(id))))
    if (record) found.set(record.id, record);
  const matches = newestFirst([...found.values()]);
  const [only] = matches;
  if (matches.length === 1 && only) return { ok: true, record: only };
  if (matches.length === 0) {
    const short =
      /^[0-9a-f]+$/i.test(ref) && ref.length < MIN_ID_PREFIX
        ? ` (an id prefix needs at least ${MIN_ID_PREFIX} characters)`
        : "";
    return {
      ok: false,
      reason: "missing",
      message: `No dead letter with id or message id ${ref} in the vault${short}.`,
      candidates: [],
    };
  }
  const candidates = matches.slice(0, MAX_CANDIDATES);
  const headline =
    matches.length > MAX_CANDIDATES
      ? `${ref} matches more than ${MAX_CANDIDATES} dead letters; give more of the id. ${MAX_CANDIDATES} of them, newest first:`
      : `${ref} matches ${matches.length} dead letters; give more of the id:`;
  return {
    ok: false,
    reason: "ambiguous",
    message: [headline, ...candidates.map(candidateLine)].join("\n"),
    candidates,
  };
}

/** `<id>  <state>  <cluster>/<entity>  message <id>  parked <when>`: enough to tell them apart. */
function candidateLine(record: VaultRecord): string {
  return [
    `  ${record.id}`,
    record.state,
    oneLine(`${record.cluster}/${entityPath(record.entity)}`, 60),
    `message ${oneLine(record.message.messageId, 40)}`,
    `parked ${record.parkedAt}`,
  ].join("  ");
}

/** Message ids and entity names come off the bus: one bounded line, no control characters. */
function oneLine(text: string, max: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  const flat = text.replace(/[\s\u0000-\u001f\u007f-\u009f]+/gu, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

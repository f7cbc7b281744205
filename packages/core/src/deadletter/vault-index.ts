import { randomUUID } from "node:crypto";
import type { EntityRef } from "./dead-letter";
import {
  bodyText,
  comesBefore,
  cursorOf,
  matchesFilter,
  type PageRequest,
  positionOf,
  propertyText,
  type RecordFilter,
  type RecordPage,
} from "./record-filter";
import type { RecordSummary, VaultRecord, VaultState } from "./vault";
import type { IndexStorage } from "./vault-index-storage";

/**
 * The search index a vault maintains, so `search`/`list` read a handful of index objects and only
 * the records they return instead of every record. One implementation for every vault, over the
 * small `IndexStorage` each adapter provides (files, or S3 objects beside the records).
 *
 * Layout, below the index folder:
 * - `manifest.json`: the segments of the snapshot, one per UTC day of `parkedAt`, newest first.
 *   Replaced only with compare-and-set on its tag (S3 If-Match), so manifests form one history.
 * - `segments/<day>.<uuid>.json`: the summaries (`IndexEntry`) of that day's records, newest first.
 *   Immutable: a compaction writes new ones under new names, so a reader may cache them forever.
 * - `changes/<id>.<version>`: empty markers. Every write (park, markNotified, transition) puts the
 *   marker of the version it is about to store BEFORE it stores the record; a failed marker write
 *   fails the write, so no record changes unseen.
 *
 * Invariant: for every record, the manifest's segments hold it at its current version, or a marker
 * of its current version exists. A reader lists the markers first, then reads the manifest, then
 * reads the records the markers name (what it reads of them replaces their summaries): a
 * compaction commits the manifest before it removes a marker, so whichever of the two a reader
 * misses, it sees the other. A write that crashed after its marker leaves a marker whose version
 * the record never reaches: the reader reads the record, finds what is really stored, and uses that.
 *
 * Compaction: a reader that finds more than `compactAfter` markers whose records it read at (at
 * least) their version folds those records into new segments for their days, commits a new manifest
 * with If-Match on the one it read, and only then removes those markers and the segments it replaced.
 * A lost If-Match (another reader compacted first) removes only its own new segments: markers stay
 * for the next reader. A crash between any two steps leaves either unreferenced objects or markers
 * that are read again: nothing a reader relies on disappears before the manifest that replaces it
 * is committed. A reader that still finds a replaced segment gone starts over from the new manifest.
 * Markers whose record never reached their version are removed once older than `staleChangeMs`
 * (far longer than any write takes; a Lambda lives at most 15 minutes).
 *
 * No manifest (an index that never existed: records parked before it, or a new vault): the first
 * reader scans every record once, writes the segments and creates the manifest (If-None-Match);
 * a reader that loses that race drops its copy and reads the winner's. Removing `manifest.json`
 * rebuilds the index the same way.
 *
 * Format: the manifest and segments say which `INDEX_FORMAT` wrote them. Format 2 summaries also
 * keep `remindedAt` (so the reminder sweep skips records already reminded without reading them).
 * A manifest of an earlier format (its summaries lack that field, and a missing one would read as
 * "not reminded") is rebuilt the same way by the first reader that may write, committed with
 * If-Match on the outdated manifest; the segments it named are removed after that commit. A
 * read-only reader answers from the records until then.
 *
 * `--grep`: a summary keeps the first `BODY_EXCERPT_CHARS` characters of the body text. A record
 * whose body is longer, that passes every other filter but whose excerpt does not match, is read
 * and matched whole, so grep stays exact; its cost is one record read per such candidate.
 */

/** What this version writes; a manifest of an earlier one is rebuilt (see "Format" above). */
export const INDEX_FORMAT = 2;
/** Characters of body text a summary keeps for `--grep` (bodies longer than this are read to confirm). */
export const BODY_EXCERPT_CHARS = 4096;
/** Settled change markers a reader tolerates before it compacts them into the snapshot. */
export const COMPACT_AFTER = 100;
/** A marker whose record never reached its version is removed after this long (the write died). */
export const STALE_CHANGE_MS = 60 * 60_000;

const DAY_MS = 86_400_000;
const MANIFEST = "manifest.json";
const CHANGES = "changes/";
const SEGMENTS = "segments/";
const ATTEMPTS = 5;

/**
 * What the index keeps of a record: enough for every `RecordFilter` field, in the shape
 * `matchesFilter` reads a record (property values as the text `--where` compares; the body as the
 * excerpt), so one definition of the filter serves records and summaries alike.
 */
export interface IndexEntry {
  id: string;
  version: number;
  state: VaultState;
  cluster: string;
  entity: EntityRef;
  parkedAt: string;
  notification?: { id: string };
  /** When its reminder was posted (format 2 on; earlier summaries lack it: see "Format"). */
  remindedAt?: string;
  message: {
    deadLetterReason?: string;
    deadLetterErrorDescription?: string;
    applicationProperties: Record<string, string>;
    body: { kind: "text"; text: string };
  };
  /** The body's text is longer than the excerpt in `message.body`. */
  truncated?: true;
}

export interface VaultIndexOptions {
  storage: IndexStorage;
  /** One record as stored now; undefined when there is none. */
  read(id: string): Promise<VaultRecord | undefined>;
  /** Every stored record's id: the one scan that builds a missing index. */
  ids(): Promise<string[]>;
  /** Where the index lives, for error messages (`s3://bucket/prefix/index/`). */
  where: string;
  compactAfter?: number;
  staleChangeMs?: number;
  /** Records read at once. */
  concurrency?: number;
  excerptChars?: number;
  now?: () => number;
  /**
   * A reader that may not write (an operator's read-only role): it never builds or compacts the
   * index, answering from what it reads; writers keep the index up.
   */
  readOnly?: boolean;
}

export interface VaultIndex {
  /** Call before storing version `version` of record `id`; a failure must abort the write. */
  noteChange(id: string, version: number): Promise<void>;
  search(filter: RecordFilter, page: PageRequest): Promise<RecordPage>;
  /** Every record that matches, newest first. */
  list(filter: RecordFilter): Promise<VaultRecord[]>;
  /** The summary of every record that matches, in no particular order (see `Vault.summaries`). */
  summaries(filter: RecordFilter): Promise<RecordSummary[]>;
}

/** The summary of `record` the index keeps. */
export function entryOf(record: VaultRecord, excerptChars = BODY_EXCERPT_CHARS): IndexEntry {
  const m = record.message;
  const text = bodyText(m.body) ?? "";
  const truncated = text.length > excerptChars;
  const entry: IndexEntry = {
    id: record.id,
    version: record.version,
    state: record.state,
    cluster: record.cluster,
    entity: record.entity,
    parkedAt: record.parkedAt,
    message: {
      // fromEntries defines own properties, so a key such as `__proto__` stays a key.
      applicationProperties: Object.fromEntries(
        Object.entries(m.applicationProperties ?? {}).map(([key, value]) => [
          key,
          String(propertyText(value)),
        ]),
      ),
      body: { kind: "text", text: truncated ? text.slice(0, excerptChars) : text },
    },
  };
  if (m.deadLetterReason !== undefined) entry.message.deadLetterReason = m.deadLetterReason;
  if (m.deadLetterErrorDescription !== undefined)
    entry.message.deadLetterErrorDescription = m.deadLetterErrorDescription;
  if (record.notification) entry.notification = { id: record.notification.id };
  if (record.remindedAt !== undefined) entry.remindedAt = record.remindedAt;
  if (truncated) entry.truncated = true;
  return entry;
}

/**
 * Whether a summary matches: `match`, `no`, or `maybe` for a long body whose excerpt lacks the
 * `--grep` text while everything else matches (the record must be read). An excerpt is a prefix of
 * the text, so a match in it is a match in the whole (but for Unicode's context-dependent lowercase
 * of a final sigma cut at the excerpt's end).
 */
export function verdictOf(entry: IndexEntry, filter: RecordFilter): "match" | "maybe" | "no" {
  // matchesFilter reads only fields an entry keeps; vault-index.test.ts checks it field by field.
  const asRecord = entry as unknown as VaultRecord;
  if (matchesFilter(asRecord, filter)) return "match";
  if (!entry.truncated || filter.grep === undefined) return "no";
  const { grep: _grep, ...rest } = filter;
  return matchesFilter(asRecord, rest) ? "maybe" : "no";
}

/** The UTC day a record's segment covers: by instant, as the listing orders (unparseable: day 0). */
export function dayOf(parkedAt: string): number {
  return Math.floor((Date.parse(parkedAt) || 0) / DAY_MS);
}

interface SegmentRef {
  day: number;
  name: string;
  count: number;
}

interface Marker {
  name: string;
  id: string;
  version: number;
  modifiedMs: number;
}

/** What a query reads: the snapshot's segments and the records change markers name, as read now. */
interface View {
  segments: SegmentRef[];
  changed: Map<string, VaultRecord | undefined>;
}

interface Candidate {
  id: string;
  parkedAt: string;
  time: number;
  verdict: "match" | "maybe";
  record?: VaultRecord;
}

/** A segment a manifest named is gone: a compaction replaced it after the manifest was read. */
class SegmentGone extends Error {}

export function createVaultIndex(options: VaultIndexOptions): VaultIndex {
  const { storage, where } = options;
  const compactAfter = options.compactAfter ?? COMPACT_AFTER;
  const staleChangeMs = options.staleChangeMs ?? STALE_CHANGE_MS;
  const concurrency = options.concurrency ?? 16;
  const excerptChars = options.excerptChars ?? BODY_EXCERPT_CHARS;
  const now = options.now ?? Date.now;
  /** Segments are immutable, so one read stays good; names the manifest dropped are evicted. */
  const segmentCache = new Map<string, IndexEntry[]>();

  const corrupt = (name: string, problem: string) =>
    new Error(
      `Vault index ${where}${name} is corrupt: ${problem}; remove ${where}${MANIFEST} to rebuild the index`,
    );

  async function loadSegment(ref: SegmentRef): Promise<IndexEntry[]> {
    const cached = segmentCache.get(ref.name);
    if (cached) return cached;
    const stored = await storage.read(ref.name);
    if (!stored) throw new SegmentGone(ref.name);
    let value: unknown;
    try {
      value = JSON.parse(stored.text);
    } catch {
      throw corrupt(ref.name, "not valid JSON");
    }
    const entries = (value as { entries?: unknown } | null)?.entries;
    if (!Array.isArray(entries)) throw corrupt(ref.name, "no entries");
    segmentCache.set(ref.name, entries as IndexEntry[]);
    return entries as IndexEntry[];
  }

  async function writeSegment(day: number, entries: IndexEntry[]): Promise<SegmentRef> {
    const name = `${SEGMENTS}${day}.${randomUUID()}.json`;
    if (!(await storage.create(name, JSON.stringify({ format: INDEX_FORMAT, day, entries }))))
      throw new Error(`Vault index segment ${where}${name} already exists`);
    segmentCache.set(name, entries);
    return { day, name, count: entries.length };
  }

  function parseManifest(text: string): { format: number; segments: SegmentRef[] } {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw corrupt(MANIFEST, "not valid JSON");
    }
    const { segments, format } = (value as { segments?: unknown; format?: unknown } | null) ?? {};
    if (
      !Array.isArray(segments) ||
      !segments.every(
        (s: Partial<SegmentRef> | null) =>
          typeof s?.name === "string" && s.name.startsWith(SEGMENTS) && Number.isInteger(s.day),
      )
    )
      throw corrupt(MANIFEST, "no list of segments");
    // The first version wrote format 1 (and a manifest without one would be older still).
    return { format: typeof format === "number" ? format : 1, segments: segments as SegmentRef[] };
  }

  const encodeManifest = (segments: SegmentRef[]) =>
    JSON.stringify({ format: INDEX_FORMAT, segments: [...segments].sort((a, b) => b.day - a.day) });

  async function listMarkers(): Promise<Marker[]> {
    const markers: Marker[] = [];
    for (const { name, modifiedMs } of await storage.list(CHANGES)) {
      const found = /^changes\/([0-9a-f]{1,128})\.(\d{1,15})$/.exec(name);
      if (found) markers.push({ name, id: found[1] as string, version: Number(found[2]), modifiedMs });
    }
    return markers;
  }

  /** Markers a snapshot holding `records` makes redundant: reached, or left by a write that died. */
  function settled(markers: Marker[], records: Map<string, VaultRecord | undefined>): Marker[] {
    const stale = now() - staleChangeMs;
    return markers.filter((m) => (records.get(m.id)?.version ?? 0) >= m.version || m.modifiedMs < stale);
  }

  async function removeAll(names: string[]): Promise<void> {
    await mapLimit(names, concurrency, (name) => storage.remove(name));
  }

  async function readRecords(ids: string[]): Promise<Map<string, VaultRecord | undefined>> {
    const records = await mapLimit(ids, concurrency, options.read);
    return new Map(ids.map((id, i) => [id, records[i]]));
  }

  /** The records grouped into day segments (merged over what the days already hold), written. */
  async function writeDays(
    records: Iterable<VaultRecord>,
    base: SegmentRef[],
  ): Promise<{ fresh: SegmentRef[]; replaced: SegmentRef[] }> {
    const byDay = new Map<number, VaultRecord[]>();
    for (const record of records) {
      groupInto(byDay, dayOf(record.parkedAt), record);
    }
    const fresh: SegmentRef[] = [];
    const replaced: SegmentRef[] = [];
    try {
      for (const [day, dayRecords] of byDay) {
        const old = base.find((s) => s.day === day);
        const entries = new Map((old ? await loadSegment(old) : []).map((e) => [e.id, e]));
        for (const record of dayRecords) {
          const kept = entries.get(record.id);
          if (!kept || kept.version <= record.version) entries.set(record.id, entryOf(record, excerptChars));
        }
        fresh.push(await writeSegment(day, sortNewestFirst([...entries.values()])));
        if (old) replaced.push(old);
      }
    } catch (error) {
      await removeAll(fresh.map((s) => s.name)).catch(() => undefined);
      throw error;
    }
    return { fresh, replaced };
  }

  /**
   * Builds the index from every record: the one scan a vault without a manifest (or with an
   * `outdated` one, of an earlier format) pays. Undefined when another reader committed first.
   */
  async function rebuild(
    markers: Marker[],
    outdated?: { tag: string; segments: SegmentRef[] },
  ): Promise<View | undefined> {
    const ids = new Set(await options.ids());
    for (const marker of markers) ids.add(marker.id);
    // Wider than a query's reads: this is the one scan, and it reads every record.
    const all = [...ids];
    const read = await mapLimit(all, concurrency * 4, options.read);
    const records = new Map(all.map((id, i) => [id, read[i]]));
    if (options.readOnly) return { segments: [], changed: records };
    const present = [...records.values()].filter((r): r is VaultRecord => r !== undefined);
    let fresh: SegmentRef[];
    try {
      ({ fresh } = await writeDays(present, []));
    } catch {
      // A reader that may not write (an operator's read-only role): answer from what it read, as
      // changed records over no segments; the next reader that may write builds the index.
      return { segments: [], changed: records };
    }
    let committed: boolean;
    try {
      committed = outdated
        ? await storage.replace(MANIFEST, encodeManifest(fresh), outdated.tag)
        : await storage.create(MANIFEST, encodeManifest(fresh));
    } catch {
      await removeAll(fresh.map((segment) => segment.name)).catch(() => undefined);
      return { segments: [], changed: records };
    }
    if (!committed) {
      // Another reader built (or compacted) it first: use theirs.
      await removeAll(fresh.map((s) => s.name));
      return undefined;
    }
    // Only now that the new manifest is committed: a reader still on the old one starts over.
    const replaced = outdated?.segments.map((s) => s.name) ?? [];
    await removeAll([...settled(markers, records).map((m) => m.name), ...replaced]);
    return { segments: fresh, changed: new Map() };
  }

  /** Folds settled markers' records into new segments; the new segment list, or undefined if lost. */
  async function compact(
    segments: SegmentRef[],
    tag: string,
    done: Marker[],
    changed: Map<string, VaultRecord | undefined>,
  ): Promise<SegmentRef[] | undefined> {
    const records = [...new Set(done.map((m) => m.id))].flatMap((id) => changed.get(id) ?? []);
    const { fresh, replaced } = await writeDays(records, segments);
    const next = [...segments.filter((s) => !replaced.includes(s)), ...fresh];
    if (!(await storage.replace(MANIFEST, encodeManifest(next), tag))) {
      await removeAll(fresh.map((s) => s.name));
      return undefined;
    }
    await removeAll([...done.map((m) => m.name), ...replaced.map((s) => s.name)]);
    return next;
  }

  async function currentView(): Promise<View> {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
      // Markers before the manifest: see the invariant above.
      const markers = await listMarkers();
      const manifest = await storage.read(MANIFEST);
      if (!manifest) {
        const built = await rebuild(markers);
        if (built) return built;
        continue;
      }
      const parsed = parseManifest(manifest.text);
      if (parsed.format < INDEX_FORMAT) {
        const built = await rebuild(markers, { tag: manifest.tag, segments: parsed.segments });
        if (built) return built;
        continue;
      }
      let segments = parsed.segments;
      const changed = await readRecords([...new Set(markers.map((m) => m.id))]);
      const done = settled(markers, changed);
      // A compaction that cannot write (a read-only reader) leaves it to the next writer.
      if (done.length > compactAfter && !options.readOnly)
        segments = (await compact(segments, manifest.tag, done, changed).catch(() => undefined)) ?? segments;
      const live = new Set(segments.map((s) => s.name));
      for (const name of segmentCache.keys()) if (!live.has(name)) segmentCache.delete(name);
      return { segments, changed };
    }
    throw new Error(
      `Vault index ${where}${MANIFEST} kept being replaced; gave up after ${ATTEMPTS} attempts`,
    );
  }

  /**
   * The records matching `filter` after `from`, newest first, at most `limit`, and whether more
   * follow. Walks day segments newest first, skipping days the cursor or the time range rule out;
   * reads only the records it returns (to return them whole, and to recheck them) and the long
   * bodies `--grep` must confirm.
   */
  async function collect(
    view: View,
    filter: RecordFilter,
    from: { parkedAt: string; id: string } | undefined,
    limit: number,
  ): Promise<{ records: VaultRecord[]; more: boolean }> {
    const changedByDay = new Map<number, VaultRecord[]>();
    for (const record of view.changed.values()) {
      if (record) groupInto(changedByDay, dayOf(record.parkedAt), record);
    }
    const byDay = new Map(view.segments.map((s) => [s.day, s]));
    const since = filter.since === undefined ? Number.NaN : Date.parse(filter.since);
    const until = filter.until === undefined ? Number.NaN : Date.parse(filter.until);
    const fromDay = from ? dayOf(from.parkedAt) : Number.POSITIVE_INFINITY;
    const days = [...new Set([...byDay.keys(), ...changedByDay.keys()])]
      .filter(
        (day) =>
          day <= fromDay &&
          !((day + 1) * DAY_MS <= since) && // NaN (no bound) compares false: nothing skipped
          !(day * DAY_MS >= until),
      )
      .sort((a, b) => b - a);

    const out: VaultRecord[] = [];
    for (const day of days) {
      const candidates: Candidate[] = [];
      const segment = byDay.get(day);
      for (const entry of segment ? await loadSegment(segment) : []) {
        if (view.changed.has(entry.id) || (from && !comesBefore(from, entry))) continue;
        const verdict = verdictOf(entry, filter);
        if (verdict !== "no") candidates.push(candidateOf(entry, verdict));
      }
      for (const record of changedByDay.get(day) ?? []) {
        if ((from && !comesBefore(from, record)) || !matchesFilter(record, filter)) continue;
        candidates.push({ ...candidateOf(record, "match"), record });
      }
      candidates.sort(newestFirstOrder);

      for (let i = 0; i < candidates.length; ) {
        const full = out.length >= limit;
        // Once the page is full, a summary that matches is trusted to say "more follow".
        if (full && candidates[i]?.verdict === "match") return { records: out, more: true };
        const batch = full ? candidates.slice(i, i + 1) : batchOf(candidates, i, limit - out.length);
        const records = await mapLimit(batch, concurrency, (c) =>
          c.record ? Promise.resolve(c.record) : options.read(c.id),
        );
        for (const record of records) {
          // Rechecked whole: it may have changed since its summary was written (or never landed).
          if (!record || !matchesFilter(record, filter) || (from && !comesBefore(from, record))) continue;
          if (out.length >= limit) return { records: out, more: true };
          out.push(record);
        }
        i += batch.length;
      }
    }
    return { records: out, more: false };
  }

  /**
   * Every match's summary from the view: the segments' entries as they are (current unless a marker
   * names their record: then the record read for the view), reading only long bodies `grep` must confirm.
   */
  async function summarize(view: View, filter: RecordFilter): Promise<RecordSummary[]> {
    const out: RecordSummary[] = [];
    const maybe: string[] = [];
    for (const segment of view.segments) {
      for (const entry of await loadSegment(segment)) {
        if (view.changed.has(entry.id)) continue;
        const verdict = verdictOf(entry, filter);
        if (verdict === "match") out.push(summaryOf(entry));
        else if (verdict === "maybe") maybe.push(entry.id);
      }
    }
    for (const record of view.changed.values()) {
      if (record && matchesFilter(record, filter)) out.push(summaryOf(record));
    }
    for (const record of await mapLimit(maybe, concurrency, options.read)) {
      if (record && matchesFilter(record, filter)) out.push(summaryOf(record));
    }
    return out;
  }

  async function withRetry<T>(task: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await task();
      } catch (error) {
        if (!(error instanceof SegmentGone) || attempt >= ATTEMPTS) {
          if (error instanceof SegmentGone)
            throw new Error(
              `Vault index segment ${where}${error.message} is missing; remove ${where}${MANIFEST} to rebuild the index`,
            );
          throw error;
        }
      }
    }
  }

  return {
    async noteChange(id, version) {
      await storage.write(`${CHANGES}${id}.${version}`, "");
    },

    async search(filter, page) {
      const from = page.after === undefined ? undefined : positionOf(page.after);
      if (page.after !== undefined && from === undefined) throw new Error("Invalid page cursor");
      if (page.limit <= 0) return { records: [] };
      const { records, more } = await withRetry(async () =>
        collect(await currentView(), filter, from, page.limit),
      );
      const last = records.at(-1);
      return more && last ? { records, next: cursorOf(last) } : { records };
    },

    async list(filter) {
      return (
        await withRetry(async () => collect(await currentView(), filter, undefined, Number.POSITIVE_INFINITY))
      ).records;
    },

    async summaries(filter) {
      return withRetry(async () => summarize(await currentView(), filter));
    },
  };
}

/** Just the summary fields, so a caller never holds a whole record or index entry by another name. */
export function summaryOf({ id, state, cluster, entity, parkedAt }: RecordSummary): RecordSummary {
  return { id, state, cluster, entity, parkedAt };
}

function groupInto<K, V>(groups: Map<K, V[]>, key: K, value: V): void {
  const group = groups.get(key);
  if (group) group.push(value);
  else groups.set(key, [value]);
}

function candidateOf(entry: { id: string; parkedAt: string }, verdict: "match" | "maybe"): Candidate {
  return { id: entry.id, parkedAt: entry.parkedAt, time: Date.parse(entry.parkedAt) || 0, verdict };
}

/** Newest first: by instant, then text, then id (as `newestFirst` and the cursors order). */
function newestFirstOrder(a: Candidate, b: Candidate): number {
  if (a.time !== b.time) return b.time - a.time;
  if (a.parkedAt !== b.parkedAt) return a.parkedAt < b.parkedAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function sortNewestFirst(entries: IndexEntry[]): IndexEntry[] {
  const keyed = entries.map((entry) => ({ entry, ...candidateOf(entry, "match") }));
  return keyed.sort(newestFirstOrder).map((k) => k.entry);
}

/** The next candidates to read: enough that the page could fill, bounded so a grep reads in steps. */
function batchOf(candidates: Candidate[], start: number, need: number): Candidate[] {
  let matches = 0;
  let end = start;
  while (end < candidates.length && matches < need && end - start < 256) {
    if (candidates[end]?.verdict === "match") matches += 1;
    end += 1;
  }
  return candidates.slice(start, end);
}

/** `task` over `items`, at most `limit` at once, answers in the items' order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

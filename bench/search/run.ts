/**
 * Bench 6: `deadletter ls` searches over 100,000 dead letters, through `Vault.search`, in the file
 * vault and in the S3 vault (on the S3 stand-in): the vault's search index against reading every
 * record (what both vaults did before the index; `useIndex: false`).
 *
 *   npx tsx bench/search/run.ts [--records 100000] [--scan-records 10000] [--runs 5] [--parks 2000]
 *
 * Records are written as a vault from before the index holds them (one object per record, no
 * index); the first search of each vault builds the index from them (timed: that is the one scan
 * an existing vault pays). The scan baseline runs at `--scan-records` (a second vault of the first
 * that many records; both contenders measured on it); the index also at `--records`. Contenders
 * run interleaved, order swapped each run. "warm" reuses one vault (its cache of immutable index
 * segments kept, as a warm Lambda or the local server has it); "cold" opens a fresh vault per query
 * (as a cold Lambda does: it reads the manifest and every segment the query needs).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createS3Vault } from "@victoria/core/adapters/aws/s3-vault";
import { createFileVault } from "@victoria/core/adapters/local/file-vault";
import type { EntityRef } from "@victoria/core/deadletter/dead-letter";
import type { PageRequest, RecordFilter } from "@victoria/core/deadletter/record-filter";
import type { Vault, VaultRecord, VaultState } from "@victoria/core/deadletter/vault";
import { mapLimit } from "@victoria/core/deadletter/vault-index";
import { vaultRecordId } from "@victoria/core/deadletter/vault-record-id";
import { environmentTable, pinSelf } from "../drain/machine";
import { repoRoot } from "../drain/pinned-server";
import { formatSummary, markdownTable, pinned, summarize } from "../lib/stats";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "100000" },
    "scan-records": { type: "string", default: "10000" },
    runs: { type: "string", default: "5" },
    parks: { type: "string", default: "2000" },
  },
});
const RECORDS = Number(values.records);
const SCAN_RECORDS = Math.min(RECORDS, Number(values["scan-records"]));
const RUNS = Number(values.runs);
const PARKS = Number(values.parks);
const LIMIT = 50; // `deadletter ls` prints 50 when --limit is not given
const BUCKET = "bench-vault";
const NOW = Date.now();
const DAY = 86_400_000;

// --- the records --------------------------------------------------------------------------------

/** A small seeded generator, so every run searches the same vault. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CLUSTERS = ["prod-eu", "prod-us", "staging"];
const ENTITIES: EntityRef[] = [
  { kind: "queue", queue: "orders" },
  { kind: "queue", queue: "payments" },
  { kind: "queue", queue: "invoices" },
  { kind: "subscription", topic: "events", subscription: "audit" },
  { kind: "subscription", topic: "events", subscription: "billing" },
];
const REASONS: [string, string][] = [
  ["MaxDeliveryCountExceeded", "Message could not be consumed after 10 delivery attempts."],
  ["TTLExpiredException", "The message expired and was dead lettered."],
  ["ProcessingFailed", "NullReferenceException in OrderHandler.Handle"],
  ["ValidationFailed", "customerId is required"],
  ["SessionLockLost", "The session lock was lost."],
];
const STATES: VaultState[] = [
  "parked",
  "parked",
  "parked",
  "parked",
  "parked",
  "parked",
  "parked",
  "replayed",
  "replayed",
  "deleted",
];

/** The `n`th record: 1 in 100 parked in the last hour, the rest over 30 days; 1 in 100 bodies > 4 KiB. */
function recordOf(n: number): VaultRecord {
  const rnd = random(n + 1);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rnd() * items.length)] as T;
  const entity = pick(ENTITIES);
  const cluster = pick(CLUSTERS);
  const [reason, description] = pick(REASONS);
  const ageMs = n % 100 === 0 ? rnd() * 3_600_000 : rnd() * 30 * DAY;
  const long = n % 100 === 50;
  const lines = Array.from({ length: 1 + Math.floor(rnd() * 12) }, (_, i) => ({
    sku: `SKU-${String(Math.floor(rnd() * 20_000)).padStart(5, "0")}`,
    qty: i + 1,
    note: "x".repeat(Math.floor(rnd() * 60)),
  }));
  const body = {
    orderId: n,
    customer: `customer-${Math.floor(rnd() * 5000)}`,
    lines,
    ...(long ? { attachment: "y".repeat(8_000), trailer: "tail-marker" } : {}),
  };
  const message = {
    messageId: `bench-${n}`,
    sequenceNumber: String(n),
    enqueuedTime: new Date(NOW - ageMs - 60_000).toISOString(),
    deliveryCount: 10,
    deadLetterReason: reason,
    deadLetterErrorDescription: description,
    body: { kind: "json" as const, value: body },
    contentType: "application/json",
    applicationProperties: {
      tenant: `tenant-${String(Math.floor(rnd() * 50)).padStart(2, "0")}`,
      region: pick(["eu", "us", "apac"]),
      attempt: 1 + Math.floor(rnd() * 5),
      priority: rnd() < 0.1,
    },
  };
  const state = STATES[n % STATES.length] as VaultState;
  const parkedAt = new Date(NOW - ageMs).toISOString();
  return {
    id: vaultRecordId(cluster, entity, message),
    cluster,
    namespace: `sb-${cluster}`,
    entity,
    parkedAt,
    state,
    version: state === "parked" ? 2 : 3,
    notification: {
      channel: "C0ALERTS",
      ts: `${Math.floor(NOW / 1000)}.${n}`,
      id: `N${Math.floor(n / 40)}`,
      at: parkedAt,
    },
    ...(state === "parked" ? {} : { resolution: { by: "U0BENCH", at: parkedAt, via: "command" as const } }),
    message,
  };
}

// --- the queries --------------------------------------------------------------------------------

interface Query {
  name: string;
  filter: RecordFilter;
  pages: number;
}

const QUERIES: Query[] = [
  { name: "state=parked, first page", filter: { state: "parked" }, pages: 1 },
  { name: "--reason ttl (parked)", filter: { state: "parked", reason: "ttl" }, pages: 1 },
  {
    name: "--where tenant=tenant-07 region=eu",
    filter: {
      where: [
        { key: "tenant", value: "tenant-07" },
        { key: "region", value: "eu" },
      ],
    },
    pages: 1,
  },
  { name: "--grep SKU-00042", filter: { grep: "SKU-00042" }, pages: 1 },
  { name: "--grep past the 4 KiB excerpt (1% long bodies read)", filter: { grep: "tail-marker" }, pages: 1 },
  { name: "--since 1h", filter: { since: new Date(NOW - 3_600_000).toISOString() }, pages: 1 },
  { name: "state=parked, pages 1–5 (--next)", filter: { state: "parked" }, pages: 5 },
];

/** Runs a query page by page; answers what it returned (to check contenders agree). */
async function runQuery(vault: Vault, query: Query): Promise<string[]> {
  const ids: string[] = [];
  let page: PageRequest = { limit: LIMIT };
  for (let p = 0; p < query.pages; p++) {
    const result = await vault.search(query.filter, page);
    ids.push(...result.records.map((r) => r.id));
    if (!result.next) break;
    page = { limit: LIMIT, after: result.next };
  }
  return ids;
}

// --- the vaults ---------------------------------------------------------------------------------

interface Store {
  name: string;
  /** A vault over the `size`-record data set; `index: false` reads every record. */
  open(size: number, index: boolean): Vault;
  /** Requests sent to the store since the last call (S3 only). */
  requests(): number | undefined;
}

async function fileStore(root: string, sizes: number[]): Promise<Store> {
  for (const size of sizes) {
    const folder = join(root, `n${size}`, "records");
    mkdirSync(folder, { recursive: true });
    const started = performance.now();
    await mapLimit(
      Array.from({ length: size }, (_, n) => n),
      64,
      (n) => {
        const record = recordOf(n);
        return writeFile(join(folder, `${record.id}.json`), `${JSON.stringify(record, null, 2)}\n`);
      },
    );
    log(`file vault: wrote ${size} record files in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return {
    name: "file vault",
    open: (size, index) => createFileVault(join(root, `n${size}`), { useIndex: index }),
    requests: () => undefined,
  };
}

async function s3Store(sizes: number[]): Promise<Store & { stop(): void }> {
  const [command, args] = pinned(1, process.execPath, [
    "--import",
    "tsx",
    join(repoRoot, "bench/search/s3-server.ts"),
    BUCKET,
  ]);
  const child: ChildProcess = spawn(command, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`S3 stand-in exited (${code})`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once("line", resolve);
  });
  const { endpoint, region } = JSON.parse(line) as { endpoint: string; region: string };
  let sent = 0;
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId: "AKIDBENCH", secretAccessKey: "bench" },
    maxAttempts: 1,
  });
  client.middlewareStack.add(
    (next) => (args) => {
      sent += 1;
      return next(args);
    },
    { step: "initialize" },
  );
  for (const size of sizes) {
    const started = performance.now();
    await mapLimit(
      Array.from({ length: size }, (_, n) => n),
      48,
      (n) => {
        const record = recordOf(n);
        return client.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: `n${size}/records/${record.id}.json`,
            Body: JSON.stringify(record),
            ContentType: "application/json",
          }),
        );
      },
    );
    log(`S3 vault: put ${size} record objects in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  sent = 0;
  return {
    name: "S3 vault (stand-in)",
    open: (size, index) => createS3Vault({ client, bucket: BUCKET, prefix: `n${size}/`, useIndex: index }),
    requests() {
      const n = sent;
      sent = 0;
      return n;
    },
    stop() {
      client.destroy();
      child.kill("SIGTERM");
    },
  };
}

// --- measuring ----------------------------------------------------------------------------------

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

async function timed<T>(task: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await task();
  return { ms: performance.now() - started, value };
}

type Contender = "warm" | "cold" | "scan";
interface Row {
  store: string;
  size: number;
  query: string;
  samples: Record<Contender, number[]>;
  requests: Record<Contender, number[]>;
  returned: number;
}

async function measure(
  store: Store,
  size: number,
  contenders: Contender[],
): Promise<{ rows: Row[]; extra: Record<string, number> }> {
  const extra: Record<string, number> = {};
  // The first search builds the index from the records: the one scan a vault without an index pays.
  const warm = store.open(size, true);
  const build = await timed(() => warm.search({}, { limit: LIMIT }));
  extra.buildMs = build.ms;
  extra.buildRequests = store.requests() ?? 0;
  log(`${store.name} @ ${size}: index built in ${(build.ms / 1000).toFixed(1)} s`);
  const rows: Row[] = QUERIES.map((q) => ({
    store: store.name,
    size,
    query: q.name,
    samples: { warm: [], cold: [], scan: [] },
    requests: { warm: [], cold: [], scan: [] },
    returned: 0,
  }));
  for (let run = 0; run < RUNS; run++) {
    const order = run % 2 === 0 ? contenders : [...contenders].reverse();
    for (const [i, query] of QUERIES.entries()) {
      const row = rows[i] as Row;
      const answers: string[][] = [];
      for (const contender of order) {
        const vault = contender === "warm" ? warm : store.open(size, contender !== "scan");
        store.requests();
        const { ms, value } = await timed(() => runQuery(vault, query));
        row.samples[contender].push(ms);
        row.requests[contender].push(store.requests() ?? 0);
        answers.push(value);
        row.returned = value.length;
      }
      for (const answer of answers)
        if (JSON.stringify(answer) !== JSON.stringify(answers[0]))
          throw new Error(`Contenders disagree on ${query.name}`);
    }
    log(`${store.name} @ ${size}: run ${run + 1}/${RUNS} done`);
  }
  return { rows, extra };
}

/** Parks `count` new records 16 at a time into the index vault, then times the query that folds them in. */
async function parkAndCompact(store: Store, size: number): Promise<Record<string, number>> {
  const vault = store.open(size, true);
  await vault.search({}, { limit: 1 });
  store.requests();
  const fresh = Array.from({ length: PARKS }, (_, i) => {
    const { state: _s, version: _v, notification: _n, resolution: _r, ...rest } = recordOf(1_000_000 + i);
    return { ...rest, parkedAt: new Date().toISOString() };
  });
  const parks = await timed(() => mapLimit(fresh, 16, (r) => vault.park(r)));
  const parkRequests = store.requests() ?? 0;
  const first = await timed(() => vault.search({ state: "parked" }, { limit: LIMIT }));
  const firstRequests = store.requests() ?? 0;
  const after = await timed(() => vault.search({ state: "parked" }, { limit: LIMIT }));
  return {
    parksPerSecond: PARKS / (parks.ms / 1000),
    requestsPerPark: parkRequests / PARKS,
    firstQueryMs: first.ms,
    firstQueryRequests: firstRequests,
    nextQueryMs: after.ms,
  };
}

// --- report -------------------------------------------------------------------------------------

function table(rows: Row[], contenders: Contender[]): string {
  const header = [
    "query",
    "returned",
    ...contenders.map((c) => `${c === "scan" ? "full scan" : `index (${c})`} ms`),
  ];
  if (contenders.includes("scan")) header.push("scan ÷ index (warm)", "scan ÷ index (cold)");
  if (rows.some((r) => r.requests.warm.some((n) => n > 0)))
    header.push(...contenders.map((c) => `S3 requests, ${c}`));
  return markdownTable(
    header,
    rows.map((row) => {
      const cells = [
        row.query,
        String(row.returned),
        ...contenders.map((c) => formatSummary(summarize(row.samples[c]))),
      ];
      if (contenders.includes("scan")) {
        const scan = summarize(row.samples.scan).median;
        cells.push(
          `${(scan / summarize(row.samples.warm).median).toFixed(0)}×`,
          `${(scan / summarize(row.samples.cold).median).toFixed(0)}×`,
        );
      }
      if (header.at(-1)?.startsWith("S3 requests"))
        cells.push(...contenders.map((c) => String(summarize(row.requests[c]).median)));
      return cells;
    }),
  );
}

async function main(): Promise<void> {
  pinSelf(0);
  const root = mkdtempSync(join(tmpdir(), "bench-search-"));
  const sizes = [...new Set([SCAN_RECORDS, RECORDS])];
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    records: RECORDS,
    scanRecords: SCAN_RECORDS,
    runs: RUNS,
  };
  const out: string[] = [
    `# Search bench — ${new Date().toISOString().slice(0, 10)}`,
    "",
    environmentTable(),
    "",
    `${LIMIT} records a page; ${RUNS} runs per contender, interleaved (order swapped every run); milliseconds, median (range).`,
  ];
  const s3 = await s3Store(sizes);
  try {
    const file = await fileStore(root, sizes);
    for (const store of [file, s3] as Store[]) {
      for (const size of sizes) {
        const contenders: Contender[] = size === SCAN_RECORDS ? ["warm", "cold", "scan"] : ["warm", "cold"];
        const { rows, extra } = await measure(store, size, contenders);
        const writes = size === RECORDS && PARKS > 0 ? await parkAndCompact(store, size) : undefined;
        results[`${store.name} @ ${size}`] = { rows, extra, writes };
        out.push(
          "",
          `## ${store.name}, ${size.toLocaleString("en")} records${size === SCAN_RECORDS ? " (index vs full scan)" : ""}`,
          "",
          `Index built from the records by the first search: ${((extra.buildMs ?? 0) / 1000).toFixed(1)} s${extra.buildRequests ? ` (${extra.buildRequests.toLocaleString("en")} S3 requests)` : ""}.`,
          "",
          table(rows, contenders),
        );
        if (writes)
          out.push(
            "",
            `Then ${PARKS.toLocaleString("en")} parks (16 at a time): ${(writes.parksPerSecond ?? 0).toFixed(0)} parks/s` +
              (writes.requestsPerPark ? `, ${writes.requestsPerPark.toFixed(1)} S3 requests per park` : "") +
              `; the next search read the ${PARKS.toLocaleString("en")} changed records and compacted them in ${(writes.firstQueryMs ?? 0).toFixed(0)} ms` +
              (writes.firstQueryRequests
                ? ` (${writes.firstQueryRequests.toLocaleString("en")} S3 requests)`
                : "") +
              `; the search after that took ${(writes.nextQueryMs ?? 0).toFixed(1)} ms.`,
          );
        process.stdout.write(`${out.splice(0).join("\n")}\n`);
      }
    }
  } finally {
    s3.stop();
    rmSync(root, { recursive: true, force: true });
  }
  mkdirSync(join(repoRoot, "bench/results"), { recursive: true });
  const file = join(repoRoot, "bench/results", `search-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  log(`raw samples: ${file}`);
}

await main();

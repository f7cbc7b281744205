import { type BulkJob, isBulkJobId } from "./bulk-job";

/** What one `update` did: written (and what is stored now), or refused by the change. */
export type BulkJobUpdate = { ok: true; job: BulkJob } | { ok: false; job: BulkJob | undefined };

/**
 * Bulk job records beside the vault's: `jobs/<id>.json` in the vault bucket (If-Match), versioned
 * files under VAULT_DIR locally. Every write is a compare-and-set, so two runners of one job can
 * never both believe they hold its lease.
 */
export interface BulkJobStore {
  /** Stores a new job at version 1; throws if its id is taken or malformed. */
  create(job: BulkJob): Promise<BulkJob>;
  /** Undefined for a missing id and for any string that cannot be one. */
  get(id: string): Promise<BulkJob | undefined>;
  /**
   * Read, apply `change` (undefined: refuse, write nothing), write only if nothing was written in
   * between; on a conflict read again and re-apply, so racing writers serialize.
   */
  update(id: string, change: (current: BulkJob) => BulkJob | undefined): Promise<BulkJobUpdate>;
  /** The newest jobs first, at most `limit` (`deadletter jobs`, and the sweep that resumes them). */
  recent(limit: number): Promise<BulkJob[]>;
}

/** What an adapter provides: a read with a token, a create-only write, a conditional replace. */
export interface ConditionalJobStorage<Token> {
  read(id: string): Promise<{ job: BulkJob; token: Token } | undefined>;
  /** False when something is stored under the id already. */
  insert(job: BulkJob): Promise<boolean>;
  /** False when what is stored is no longer what `token` was read with. */
  replace(next: BulkJob, token: Token): Promise<boolean>;
  /** Every stored job id, in any order. */
  ids(): Promise<string[]>;
}

/** Conflicting writes one update survives before it gives up. */
const MAX_ATTEMPTS = 50;

/** The store every adapter shares: ids checked, versions bumped, the compare-and-set loop, once. */
export function createConditionalJobStore<Token>(storage: ConditionalJobStorage<Token>): BulkJobStore {
  return {
    async create(job) {
      if (!isBulkJobId(job.id)) throw new Error(`Invalid bulk job id ${JSON.stringify(job.id)}`);
      const fresh = roundTrip({ ...job, version: 1 });
      if (!(await storage.insert(fresh))) throw new Error(`Bulk job ${job.id} already exists`);
      return fresh;
    },
    async get(id) {
      return isBulkJobId(id) ? (await storage.read(id))?.job : undefined;
    },
    async update(id, change) {
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
        const current = isBulkJobId(id) ? await storage.read(id) : undefined;
        if (!current) return { ok: false, job: undefined };
        const changed = change(structuredClone(current.job));
        if (!changed) return { ok: false, job: current.job };
        const next = roundTrip({ ...changed, id: current.job.id, version: current.job.version + 1 });
        if (await storage.replace(next, current.token)) return { ok: true, job: next };
        await new Promise((done) => setTimeout(done, Math.random() * Math.min(2 ** attempt, 100)));
      }
      throw new Error(`Bulk job ${id} kept changing: gave up after ${MAX_ATTEMPTS} conflicting writes`);
    },
    async recent(limit) {
      const ids = (await storage.ids()).filter(isBulkJobId).sort().reverse().slice(0, Math.max(0, limit));
      const jobs = await Promise.all(ids.map((id) => storage.read(id).catch(() => undefined)));
      return jobs.flatMap((found) => (found ? [found.job] : []));
    },
  };
}

function roundTrip(job: BulkJob): BulkJob {
  return JSON.parse(JSON.stringify(job)) as BulkJob;
}

/** A store in memory, for tests and hosts without a vault folder. */
export function createMemoryJobStore(): BulkJobStore {
  const jobs = new Map<string, string>();
  return createConditionalJobStore<number>({
    async read(id) {
      const text = jobs.get(id);
      if (text === undefined) return undefined;
      const job = JSON.parse(text) as BulkJob;
      return { job, token: job.version };
    },
    async insert(job) {
      if (jobs.has(job.id)) return false;
      jobs.set(job.id, JSON.stringify(job));
      return true;
    },
    async replace(next, version) {
      const text = jobs.get(next.id);
      if (text === undefined || (JSON.parse(text) as BulkJob).version !== version) return false;
      jobs.set(next.id, JSON.stringify(next));
      return true;
    },
    async ids() {
      return [...jobs.keys()];
    },
  });
}

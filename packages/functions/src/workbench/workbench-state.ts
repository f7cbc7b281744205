import { open } from "node:fs/promises";
import { bodyPreview, entityPath } from "@victoria/core/deadletter/dead-letter";
import type { Vault, VaultRecord } from "@victoria/core/deadletter/vault";
import type { AuditRecord } from "@victoria/core/security/audit-log";
import type { ServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import type { SlackStandIn } from "@victoria/emulators/slack";
import type { SlackClientSide } from "./slack-client-side";

/** Everything the workbench page shows, as seen by one person. */
export interface WorkbenchState {
  channel: { id: string; name: string };
  /** Messages this person can see, oldest first; ephemeral ones only if they are for them. */
  messages: ChannelMessage[];
  /** A modal open for this person, if any. */
  view?: { id: string; view: Record<string, unknown> };
  /** This person's App Home tab as the app last published it (views.publish), if it did. */
  home?: { id: string; view: Record<string, unknown> };
  bus: BusState;
  vault: { records: VaultSummary[]; error?: string };
  audit: { records: AuditRecord[]; location: string; error?: string };
}

export interface ChannelMessage {
  ts: string;
  /** The person who posted it; absent for the bot. */
  author?: string;
  ephemeral: boolean;
  text?: string;
  blocks?: Record<string, unknown>[];
  threadTs?: string;
  edited: boolean;
  files?: Array<{ name: string; title: string; preview: string }>;
}

export interface BusState {
  /** False when SERVICE_BUS_CONNECTIONS names a real namespace: the page cannot make trouble there. */
  embedded: boolean;
  namespace?: string;
  queues: Array<{ name: string; active: number; deadLetter: number }>;
}

export interface VaultSummary {
  id: string;
  state: VaultRecord["state"];
  entity: string;
  namespace: string;
  parkedAt: string;
  messageId: string;
  reason?: string;
  body: string;
  resolution?: VaultRecord["resolution"];
}

export interface WorkbenchStateSources {
  slack: SlackStandIn;
  clientSide: SlackClientSide;
  channel: { id: string; name: string };
  broker?: ServiceBusStandIn;
  namespace?: string;
  queues: readonly string[];
  vault: Vault;
  /** The JSON Lines audit file, or undefined when the audit log is elsewhere (S3). */
  auditFile?: string;
}

const AUDIT_SHOWN = 50;
/** Enough for AUDIT_SHOWN records even with outputs at AUDIT_OUTPUT_LIMIT. */
const AUDIT_TAIL_BYTES = 256 * 1024;
const VAULT_SHOWN = 100;

export async function readWorkbenchState(
  sources: WorkbenchStateSources,
  user: string,
): Promise<WorkbenchState> {
  const [vault, audit] = await Promise.all([readVault(sources.vault), readAudit(sources.auditFile)]);
  const view = sources.clientSide.openView(user);
  const home = sources.slack.homeView(user);
  return {
    channel: sources.channel,
    messages: channelMessages(sources.slack, sources.channel.id, user),
    ...(view === undefined ? {} : { view: { id: view.id, view: view.view } }),
    ...(home === undefined ? {} : { home: { id: home.id, view: home.view } }),
    bus: busState(sources),
    vault,
    audit,
  };
}

function channelMessages(slack: SlackStandIn, channel: string, user: string): ChannelMessage[] {
  const messages: ChannelMessage[] = slack
    .messages(channel)
    .filter((m) => !m.deleted && (!m.ephemeral || m.user === user))
    .map((m) => ({
      ts: m.ts,
      ...(m.author === undefined ? {} : { author: m.author }),
      ephemeral: m.ephemeral,
      ...(m.text === undefined ? {} : { text: m.text }),
      ...(m.blocks === undefined ? {} : { blocks: m.blocks }),
      ...(m.threadTs === undefined ? {} : { threadTs: m.threadTs }),
      edited: m.updates > 0,
    }));
  for (const upload of slack.uploads()) {
    if (!upload.completed || upload.channel !== channel || upload.ts === undefined) continue;
    messages.push({
      ts: upload.ts,
      ephemeral: false,
      ...(upload.initialComment === undefined ? {} : { text: upload.initialComment }),
      ...(upload.threadTs === undefined ? {} : { threadTs: upload.threadTs }),
      edited: false,
      files: [
        {
          name: upload.filename,
          title: upload.title ?? upload.filename,
          preview: (upload.content ?? "").slice(0, 4000),
        },
      ],
    });
  }
  return messages.sort((a, b) => Number(a.ts) - Number(b.ts));
}

function busState({ broker, namespace, queues }: WorkbenchStateSources): BusState {
  if (broker === undefined) return { embedded: false, queues: [] };
  return {
    embedded: true,
    ...(namespace === undefined ? {} : { namespace }),
    queues: queues.map((name) => {
      const depth = broker.depth(name);
      return { name, active: depth.active + depth.locked, deadLetter: depth.deadLetter };
    }),
  };
}

async function readVault(vault: Vault): Promise<WorkbenchState["vault"]> {
  try {
    const records = (await vault.list()).slice(0, VAULT_SHOWN);
    return {
      records: records.map((record) => ({
        id: record.id,
        state: record.state,
        entity: entityPath(record.entity),
        namespace: record.namespace,
        parkedAt: record.parkedAt,
        messageId: record.message.messageId,
        ...(record.message.deadLetterReason === undefined ? {} : { reason: record.message.deadLetterReason }),
        body: bodyPreview(record.message.body, 120),
        ...(record.resolution === undefined ? {} : { resolution: record.resolution }),
      })),
    };
  } catch (error) {
    return { records: [], error: `Could not read the vault: ${(error as Error).message}` };
  }
}

/**
 * The last lines of a file: the audit log outlives server runs and the page polls every 700 ms, so
 * only its tail is read, never the whole history.
 */
async function readTail(file: string, bytes: number): Promise<string> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const text = buffer.toString("utf8");
    // Started mid-line (or mid-character): drop the partial first line.
    return start === 0 ? text : text.slice(text.indexOf("\n") + 1);
  } finally {
    await handle.close();
  }
}

async function readAudit(file: string | undefined): Promise<WorkbenchState["audit"]> {
  if (file === undefined)
    return { records: [], location: "S3 (AUDIT_BUCKET)", error: "The audit log is in S3" };
  let text: string;
  try {
    text = await readTail(file, AUDIT_TAIL_BYTES);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { records: [], location: file };
    return {
      records: [],
      location: file,
      error: `Could not read the audit log: ${(error as Error).message}`,
    };
  }
  const records: AuditRecord[] = [];
  for (const line of text.split("\n").reverse()) {
    if (records.length === AUDIT_SHOWN) break;
    if (line.trim() === "") continue;
    try {
      records.push(JSON.parse(line) as AuditRecord);
    } catch {
      // A line being written as we read: the next poll has it.
    }
  }
  return { records, location: file };
}

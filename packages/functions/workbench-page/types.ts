// The JSON shapes the local server's workbench API answers with.

export interface WorkbenchUser {
  id: string;
  name: string;
  email?: string;
  member?: boolean;
}

export interface WorkbenchConfig {
  available: boolean;
  reason?: string;
  channel: { id: string; name: string };
  users: WorkbenchUser[];
  bot: { id: string; name: string };
  command: string;
  bus: {
    embedded: boolean;
    namespace: string;
    queues: string[];
    /** The embedded broker's, for any AMQP client (absent with SERVICE_BUS_CONNECTIONS). */
    connectionString?: string;
    topics?: Array<{ name: string; subscriptions: string[] }>;
  };
}

export type Json = Record<string, unknown>;

export interface ChannelMessage {
  ts: string;
  author?: string;
  ephemeral: boolean;
  text?: string;
  blocks?: Json[];
  threadTs?: string;
  edited: boolean;
  files?: Array<{ name: string; title: string; preview: string }>;
}

export interface BusState {
  embedded: boolean;
  namespace?: string;
  queues: Array<{ name: string; active: number; deadLetter: number }>;
}

export interface VaultRecord {
  id: string;
  state: "parked" | "replayed" | "emailed" | "deleted";
  entity: string;
  namespace: string;
  parkedAt: string;
  messageId: string;
  reason?: string;
  body: string;
  resolution?: { by: string; at: string; note?: string };
}

export interface AuditRecord {
  phase: "requested" | "finished" | "refused";
  requestId: string;
  time: string;
  source: string;
  user: { id: string; email?: string };
  channel?: string;
  command: string;
  reason?: string;
  exitStatus?: number | "error";
  durationMs?: number;
  output?: string;
}

export interface OpenView {
  id: string;
  view: Json;
}

export interface WorkbenchState {
  channel: { id: string; name: string };
  messages: ChannelMessage[];
  view?: OpenView;
  /** The person's App Home tab as last published. */
  home?: OpenView;
  bus: BusState;
  vault: { records: VaultRecord[]; error?: string };
  audit: { records: AuditRecord[]; location: string; error?: string };
}

export interface SentRequest {
  route: string;
  kind: string;
  status: number;
  response: unknown;
}

export interface PostOutcome {
  sent?: SentRequest;
  notice?: string;
}

export interface MailAttachment {
  filename: string;
  contentType: string;
  size: number;
}

export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  /** ISO 8601. */
  date: string;
  text: string;
  attachments: MailAttachment[];
}

/** `GET /workbench/api/mail`: what the SMTP stand-in received, newest first. */
export interface MailState {
  available: boolean;
  /** Why there is no mail to show (SMTP_URL names a real server). */
  reason?: string;
  /** How many the stand-in holds; `messages` is the newest of them. */
  total?: number;
  messages: MailMessage[];
}

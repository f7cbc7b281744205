import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import * as z from "@victoria/core/validation/zod";
import { type Context, Hono } from "hono";

/**
 * A loopback Slack that speaks the Web API as `@slack/web-api`'s WebClient uses it: POST
 * `/api/<method>` with a form-encoded (or JSON, or multipart) body and `Authorization: Bearer <token>`,
 * answering `{"ok": true, ...}` or `{"ok": false, "error": "<code>"}` with HTTP 200, and HTTP 429 +
 * `Retry-After` when rate limited. Methods: `auth.test`, `users.info`, `chat.postMessage`,
 * `chat.postEphemeral`, `chat.update`, `files.getUploadURLExternal` (+ the upload URL it hands out),
 * `files.completeUploadExternal`, `views.open`, `views.update` and `views.publish`. It also mints `response_url`s
 * (`/response/<id>`) and records what is POSTed to them.
 *
 * What it enforces, as Slack does:
 * - the bearer token (or, for form bodies, a `token` field) must be the bot token: missing → `not_authed`,
 *   wrong → `invalid_auth`;
 * - `channel` is required (`channel_not_found`); given a channel list, any other channel (except a
 *   known user id, which Slack treats as the app's DM with that user) is `channel_not_found`;
 * - `text`, `blocks` or `attachments` is required (`no_text`); text over 40,000 characters is
 *   `msg_too_long`; over 50 blocks, a block without a type, a section without text or fields, a
 *   section text over 3,000 characters (or empty), more than 10 section fields, a field over 2,000
 *   characters or a header over 150 characters is `invalid_blocks`; blocks that are not a JSON array
 *   are `invalid_blocks_format`;
 * - `users.info` and `chat.postEphemeral` need a known `user` (`user_not_found`);
 * - `chat.update` needs the `ts` of a message posted (not ephemerally) in that channel (`message_not_found`);
 * - `files.getUploadURLExternal` needs `filename` and `length` (`invalid_arguments`);
 *   `files.completeUploadExternal` needs `files` naming uploads whose bytes arrived (`file_not_found`);
 * - `views.open` needs `trigger_id` and a `view` (`invalid_arguments`); a modal has at most 100 blocks;
 *   `views.update` needs the `view_id` of a view opened here (`not_found`) and a `view` likewise;
 * - `views.publish` needs `user_id` and a `view` of type `home` (`invalid_arguments`), a known user
 *   (`user_not_found`) and at most 100 blocks; the user's Home tab then shows it (`homeView(user)`);
 * - in any blocks: more than 25 elements in an actions block, or a button value over 2,000
 *   characters, is `invalid_blocks`;
 * - `rateLimit(method, n, seconds)`: the next n authenticated calls of that method answer 429;
 * - a `response_url` takes JSON only (400 `invalid_payload`), a message as above (400 `no_text`,
 *   `msg_too_long`, `invalid_blocks`), at most 5 accepted posts (then 404 `used_url`) within
 *   30 minutes of minting (then 404 `expired_url`); an id it never minted is 404 `no_service`.
 *   Slack answers an accepted post `200 ok`.
 *
 * A `response_url` minted with a context (`responseUrl({ channel, user, messageTs })`, as Slack
 * mints them for a command or a click) also lands in the channel as Slack shows it: `in_channel`
 * posts become messages, others ephemeral messages for that user; `replace_original` rewrites the
 * clicked message (or, for a command, the last message this URL made) and `delete_original`
 * deletes it. People's own messages enter the channel through `postUserMessage`.
 *
 * Not modelled: channel membership, scopes, thread_ts validity, files shared into channels as
 * messages (completed uploads are in `uploads()`, not `messages()`).
 */

/** A workspace member the stand-in knows (`users.info`, `chat.postEphemeral`, DMs). */
export interface SlackUserSeed {
  id: string;
  email?: string;
  name?: string;
  isBot?: boolean;
  deleted?: boolean;
}

export interface SlackStandInOptions {
  /** The only token the Web API accepts (`xoxb-…`). */
  botToken: string;
  users?: readonly SlackUserSeed[];
  /** Known channel ids; when given, any other channel is `channel_not_found`. */
  channels?: readonly string[];
  teamId?: string;
  /** The bot's own member id (`auth.test`, the `user` of its messages). */
  botUserId?: string;
  botId?: string;
  /** Milliseconds since the epoch; response_url expiry follows it, so tests can move time. */
  now?: () => number;
}

/** One Web API call as received. */
export interface SlackCall {
  method: string;
  /** The arguments, with Slack's JSON-valued fields (`blocks`, `files`, `view`, …) decoded. */
  body: Record<string, unknown>;
  headers: Record<string, string>;
  /** HTTP status answered: 200, or 429 when rate limited. */
  status: number;
  ok: boolean;
  error?: string;
}

export interface SlackMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text?: string;
  blocks?: Record<string, unknown>[];
  /** Posted with chat.postEphemeral; `user` is who sees it. */
  ephemeral: boolean;
  user?: string;
  /** How many times chat.update (or a `replace_original` response) replaced it. */
  updates: number;
  /** The person who posted it (`postUserMessage`); absent for the bot's messages. */
  author?: string;
  /** Removed by a `delete_original` response. */
  deleted?: boolean;
}

/** Where a response_url's posts land: the channel and person of the command or click that minted it. */
export interface ResponseUrlContext {
  channel: string;
  user: string;
  /** The message the click was on, which `replace_original` and `delete_original` act on. */
  messageTs?: string;
}

export interface SlackResponse {
  /** The id in the response_url (`/response/<id>`). */
  id: string;
  url: string;
  body: Record<string, unknown>;
  headers: Record<string, string>;
  /** The message this post made, replaced or deleted, for URLs minted with a context. */
  ts?: string;
}

export interface SlackUpload {
  fileId: string;
  filename: string;
  /** The `length` announced in files.getUploadURLExternal. */
  length: number;
  /** The bytes POSTed to the upload URL, as UTF-8; undefined until they arrive. */
  content?: string;
  bytes?: Buffer;
  completed: boolean;
  title?: string;
  channel?: string;
  threadTs?: string;
  initialComment?: string;
  /** When it was completed, on the channel's message clock (orders it among `messages()`). */
  ts?: string;
}

export interface SlackView {
  id: string;
  triggerId: string;
  view: Record<string, unknown>;
}

/** A user's App Home tab as `views.publish` left it. */
export interface SlackHomeView {
  id: string;
  view: Record<string, unknown>;
  /** How many times it was published. */
  publishes: number;
}

/** The stand-in's controls and records, shared by the Hono app and the server around it. */
export interface SlackStandInControls {
  /** Mints a response_url good for 5 posts within 30 minutes; with a context, posts land in the channel. */
  responseUrl(context?: ResponseUrlContext): string;
  /** A person's message in a channel, as the Slack client would post it. */
  postUserMessage(message: { channel: string; user: string; text: string; threadTs?: string }): SlackMessage;
  /** The next `count` calls of `method` answer HTTP 429 with `Retry-After: retryAfterSeconds`. */
  rateLimit(method: string, count: number, retryAfterSeconds?: number): void;
  addUser(user: SlackUserSeed): void;
  /** Every Web API call, in order (upload and response_url posts are in `uploads()` and `responses()`). */
  readonly calls: readonly SlackCall[];
  /** Messages posted (and as last updated), optionally in one channel. */
  messages(channel?: string): SlackMessage[];
  /** Posts accepted by response_urls; pass an id or the whole URL for one of them. */
  responses(idOrUrl?: string): SlackResponse[];
  uploads(): SlackUpload[];
  views(): SlackView[];
  /** The Home tab last published for `user`, if any. */
  homeView(user: string): SlackHomeView | undefined;
  /**
   * What Slack does with a `view_submission` answered `response_action: "update"`: the open view
   * `id` becomes `view` (same id). For a client side (the workbench); false for an unknown id.
   */
  replaceView(id: string, view: Record<string, unknown>): boolean;
  /** Forgets calls, messages, responses, uploads, views, Home tabs and rate limits; users go back to the seeds. */
  reset(): void;
}

export interface SlackStandIn extends SlackStandInControls {
  /** Base URL of the Web API, ending in `/api/` (WebClient's `slackApiUrl`, `SLACK_API_URL`). */
  url: string;
  close(): Promise<void>;
}

const MAX_TEXT = 40_000;
const MAX_MESSAGE_BLOCKS = 50;
const MAX_MODAL_BLOCKS = 100;
const MAX_SECTION_TEXT = 3000;
const MAX_SECTION_FIELDS = 10;
const MAX_FIELD_TEXT = 2000;
const MAX_HEADER_TEXT = 150;
const MAX_ACTIONS_ELEMENTS = 25;
const MAX_BUTTON_VALUE = 2000;
const MAX_HOME_BLOCKS = 100;
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60 * 1000;
/** Arguments Slack takes as JSON even in a form-encoded body. */
const JSON_FIELDS = new Set(["blocks", "attachments", "files", "view", "metadata"]);

/** A Web API error: answered as `{"ok": false, "error": code}` (HTTP 200, as Slack does). */
class SlackApiError extends Error {
  constructor(
    readonly code: string,
    readonly details: string[] = [],
  ) {
    super(code);
  }
}

/** A response_url refusal: Slack answers these with a status and a plain-text code. */
class ResponseUrlError extends Error {
  constructor(
    readonly status: 400 | 404,
    readonly code: string,
  ) {
    super(code);
  }
}

type Params = Record<string, unknown>;
type Block = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringParam(params: Params, name: string): string | undefined {
  const value = params[name];
  if (typeof value === "string") return value === "" ? undefined : value;
  if (typeof value === "number") return String(value);
  return undefined;
}

function decodeJsonFields(params: Params): Params {
  const decoded: Params = { ...params };
  for (const [key, value] of Object.entries(params)) {
    if (!JSON_FIELDS.has(key) || typeof value !== "string" || value === "") continue;
    try {
      decoded[key] = JSON.parse(value);
    } catch {
      // Left as the string: the method's own validation reports it (`invalid_blocks_format`, ...).
    }
  }
  return decoded;
}

function blockError(detail: string, pointer: string): SlackApiError {
  return new SlackApiError("invalid_blocks", [`[ERROR] ${detail} [json-pointer:${pointer}]`]);
}

function textOf(value: unknown): string | undefined {
  return isRecord(value) && typeof value.text === "string" ? value.text : undefined;
}

/** Block Kit checks that catch real mistakes: counts, types and the text limits of sections and headers. */
function validateBlocks(raw: unknown, maxBlocks: number): Block[] | undefined {
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (!Array.isArray(raw)) throw new SlackApiError("invalid_blocks_format");
  if (raw.length > maxBlocks) throw blockError(`no more than ${maxBlocks} items allowed`, "/blocks");
  raw.forEach((block: unknown, index) => {
    const at = `/blocks/${index}`;
    if (!isRecord(block) || typeof block.type !== "string")
      throw blockError("missing required field: type", at);
    if (block.type === "section") {
      const text = textOf(block.text);
      const fields = block.fields;
      if (text === undefined && !Array.isArray(fields))
        throw blockError("must provide either text or fields", at);
      if (text !== undefined && text.length === 0)
        throw blockError("must be more than 0 characters", `${at}/text/text`);
      if (text !== undefined && text.length > MAX_SECTION_TEXT)
        throw blockError(`must be less than ${MAX_SECTION_TEXT + 1} characters`, `${at}/text/text`);
      if (Array.isArray(fields)) {
        if (fields.length > MAX_SECTION_FIELDS)
          throw blockError(`no more than ${MAX_SECTION_FIELDS} items allowed`, `${at}/fields`);
        fields.forEach((field: unknown, f) => {
          if ((textOf(field) ?? "").length > MAX_FIELD_TEXT)
            throw blockError(`must be less than ${MAX_FIELD_TEXT + 1} characters`, `${at}/fields/${f}/text`);
        });
      }
    }
    if (block.type === "actions") {
      const elements = Array.isArray(block.elements) ? block.elements : [];
      if (elements.length > MAX_ACTIONS_ELEMENTS)
        throw blockError(`no more than ${MAX_ACTIONS_ELEMENTS} items allowed`, `${at}/elements`);
    }
    const buttons = [
      ...(Array.isArray(block.elements) ? block.elements : []),
      ...(isRecord(block.accessory) ? [block.accessory] : []),
    ];
    buttons.forEach((element: unknown, e) => {
      if (isRecord(element) && typeof element.value === "string" && element.value.length > MAX_BUTTON_VALUE)
        throw blockError(`must be less than ${MAX_BUTTON_VALUE + 1} characters`, `${at}/elements/${e}/value`);
    });
    if (block.type === "header" && (textOf(block.text) ?? "").length > MAX_HEADER_TEXT)
      throw blockError(`must be less than ${MAX_HEADER_TEXT + 1} characters`, `${at}/text/text`);
  });
  return raw as Block[];
}

/** The message part of chat.postMessage/postEphemeral/update and of response_url posts. */
function validateMessage(params: Params): { text?: string; blocks?: Block[] } {
  const text = typeof params.text === "string" && params.text !== "" ? params.text : undefined;
  const blocks = validateBlocks(params.blocks, MAX_MESSAGE_BLOCKS);
  const attachments = params.attachments;
  const hasAttachments = Array.isArray(attachments) && attachments.length > 0;
  if (text === undefined && (blocks === undefined || blocks.length === 0) && !hasAttachments)
    throw new SlackApiError("no_text");
  if (text !== undefined && text.length > MAX_TEXT) throw new SlackApiError("msg_too_long");
  return { ...(text === undefined ? {} : { text }), ...(blocks === undefined ? {} : { blocks }) };
}

/** Reads the arguments as Slack does: query string plus a form, JSON or multipart body. */
async function readParams(c: Context): Promise<{ params: Params; json: boolean }> {
  const params: Params = Object.fromEntries(new URL(c.req.url).searchParams);
  if (c.req.method !== "POST") return { params, json: false };
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  if (type.startsWith("application/json")) {
    const text = await c.req.text();
    if (text.trim() === "") return { params, json: true };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new SlackApiError("invalid_json");
    }
    if (!isRecord(body)) throw new SlackApiError("json_not_object");
    return { params: { ...params, ...body }, json: true };
  }
  if (type.startsWith("multipart/form-data")) {
    const form = await c.req.formData();
    for (const [key, value] of form) if (typeof value === "string") params[key] = value;
    return { params, json: false };
  }
  const text = await c.req.text();
  for (const [key, value] of new URLSearchParams(text)) params[key] = value;
  return { params, json: false };
}

/**
 * Slack's message timestamps: epoch seconds of the stand-in's clock, a dot and six digits. The
 * digits count messages, so timestamps increase strictly even within one second.
 */
function tsFor(nowMs: number, sequence: number): string {
  return `${Math.floor(nowMs / 1000)}.${String(sequence % 1_000_000).padStart(6, "0")}`;
}

/**
 * The stand-in as a Hono app (routes `/api/:method`, `/upload/:fileId`, `/response/:id`) plus its
 * controls, so a server can mount it; `baseUrl()` is where the app is reachable (no trailing slash).
 */
export function createSlackStandInApp(
  options: SlackStandInOptions & { baseUrl: () => string },
): { app: Hono } & SlackStandInControls {
  const teamId = options.teamId ?? "T0STANDIN";
  const botUserId = options.botUserId ?? "U0VICTORIA";
  const botId = options.botId ?? "B0VICTORIA";
  const now = options.now ?? Date.now;
  const knownChannels = options.channels === undefined ? undefined : new Set(options.channels);
  // Slackbot exists in every workspace and, unlike bots, has is_bot false.
  const seeds: SlackUserSeed[] = [{ id: "USLACKBOT", name: "slackbot" }, ...(options.users ?? [])];

  const users = new Map<string, SlackUserSeed>();
  const calls: SlackCall[] = [];
  const messages: SlackMessage[] = [];
  const responses: SlackResponse[] = [];
  const uploads = new Map<string, SlackUpload>();
  const views: SlackView[] = [];
  /** Each user's Home tab as last published (Slack keeps one per user and app). */
  const homes = new Map<string, SlackHomeView>();
  const rateLimits = new Map<string, { remaining: number; retryAfterSeconds: number }>();
  const responseUrls = new Map<
    string,
    { mintedAt: number; uses: number; context?: ResponseUrlContext; lastTs?: string }
  >();
  let sequence = 0;

  function seedUsers(): void {
    users.clear();
    for (const user of seeds) users.set(user.id, { ...user });
  }
  seedUsers();

  const nextTs = () => tsFor(now(), ++sequence);
  const newId = (prefix: string) => `${prefix}${randomBytes(5).toString("hex").toUpperCase()}`;

  function requireChannel(params: Params, name = "channel"): string {
    const channel = stringParam(params, name);
    if (channel === undefined) throw new SlackApiError("channel_not_found");
    if (knownChannels !== undefined && !knownChannels.has(channel) && !users.has(channel))
      throw new SlackApiError("channel_not_found");
    return channel;
  }

  function requireUser(params: Params): SlackUserSeed {
    const id = stringParam(params, "user");
    const user = id === undefined ? undefined : users.get(id);
    if (user === undefined) throw new SlackApiError("user_not_found");
    return user;
  }

  function botMessage(ts: string, message: { text?: string; blocks?: Block[] }, threadTs?: string) {
    return {
      type: "message",
      user: botUserId,
      bot_id: botId,
      team: teamId,
      ts,
      text: message.text ?? "",
      ...(message.blocks === undefined ? {} : { blocks: message.blocks }),
      ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
    };
  }

  const methods: Record<string, (params: Params, json: boolean) => Record<string, unknown>> = {
    "auth.test": () => ({
      url: "https://stand-in.slack.com/",
      team: "Stand-in",
      user: "victoria",
      team_id: teamId,
      user_id: botUserId,
      bot_id: botId,
      is_enterprise_install: false,
    }),

    "users.info": (params) => {
      const user = requireUser(params);
      const name = user.name ?? user.id.toLowerCase();
      return {
        user: {
          id: user.id,
          team_id: teamId,
          name,
          real_name: name,
          deleted: user.deleted === true,
          is_bot: user.isBot === true,
          is_app_user: false,
          profile: {
            real_name: name,
            display_name: name,
            ...(user.email === undefined ? {} : { email: user.email }),
          },
        },
      };
    },

    "chat.postMessage": (params) => {
      const channel = requireChannel(params);
      const message = validateMessage(params);
      const threadTs = stringParam(params, "thread_ts");
      const ts = nextTs();
      messages.push({ channel, ts, threadTs, ...message, ephemeral: false, updates: 0 });
      return { channel, ts, message: botMessage(ts, message, threadTs) };
    },

    "chat.postEphemeral": (params) => {
      const channel = requireChannel(params);
      const user = requireUser(params);
      const message = validateMessage(params);
      const threadTs = stringParam(params, "thread_ts");
      const ts = nextTs();
      messages.push({ channel, ts, threadTs, ...message, ephemeral: true, user: user.id, updates: 0 });
      return { message_ts: ts };
    },

    "chat.update": (params) => {
      const channel = requireChannel(params);
      const ts = stringParam(params, "ts");
      const found = messages.find((m) => m.channel === channel && m.ts === ts && !m.ephemeral);
      if (found === undefined) throw new SlackApiError("message_not_found");
      const message = validateMessage(params);
      // Slack keeps what the update leaves out; a new text or blocks replaces the old.
      if (message.text !== undefined) found.text = message.text;
      if (message.blocks !== undefined) found.blocks = message.blocks;
      found.updates += 1;
      return { channel, ts: found.ts, text: found.text ?? "", message: botMessage(found.ts, found) };
    },

    "files.getUploadURLExternal": (params) => {
      const filename = stringParam(params, "filename");
      const length = Number(stringParam(params, "length"));
      if (filename === undefined || !Number.isInteger(length) || length < 0)
        throw new SlackApiError("invalid_arguments");
      const fileId = newId("F");
      uploads.set(fileId, { fileId, filename, length, completed: false });
      return { upload_url: `${options.baseUrl()}/upload/${fileId}`, file_id: fileId };
    },

    "files.completeUploadExternal": (params) => {
      const files = params.files;
      if (!Array.isArray(files) || files.length === 0) throw new SlackApiError("invalid_arguments");
      const channel = params.channel_id === undefined ? undefined : requireChannel(params, "channel_id");
      const found = files.map((file: unknown) => {
        const upload = isRecord(file) && typeof file.id === "string" ? uploads.get(file.id) : undefined;
        if (upload === undefined || upload.bytes === undefined) throw new SlackApiError("file_not_found");
        return { upload, title: isRecord(file) && typeof file.title === "string" ? file.title : undefined };
      });
      for (const { upload, title } of found) {
        upload.completed = true;
        upload.title = title ?? upload.filename;
        upload.channel = channel;
        upload.threadTs = stringParam(params, "thread_ts");
        upload.initialComment = stringParam(params, "initial_comment");
        upload.ts = nextTs();
      }
      return {
        files: found.map(({ upload }) => ({
          id: upload.fileId,
          name: upload.filename,
          title: upload.title,
          size: upload.bytes?.length ?? 0,
        })),
      };
    },

    "views.open": (params) => {
      const triggerId = stringParam(params, "trigger_id");
      const view = params.view;
      if (triggerId === undefined || !isRecord(view) || typeof view.type !== "string")
        throw new SlackApiError("invalid_arguments");
      validateBlocks(view.blocks, MAX_MODAL_BLOCKS);
      const id = newId("V");
      views.push({ id, triggerId, view });
      return { view: { id, team_id: teamId, ...view } };
    },

    "views.update": (params) => {
      const viewId = stringParam(params, "view_id");
      const view = params.view;
      if (viewId === undefined || !isRecord(view) || typeof view.type !== "string")
        throw new SlackApiError("invalid_arguments");
      const opened = views.find((v) => v.id === viewId);
      if (opened === undefined) throw new SlackApiError("not_found");
      validateBlocks(view.blocks, MAX_MODAL_BLOCKS);
      opened.view = view;
      return { view: { id: viewId, team_id: teamId, ...view } };
    },

    "views.publish": (params) => {
      const userId = stringParam(params, "user_id");
      const view = params.view;
      if (userId === undefined || !isRecord(view) || view.type !== "home")
        throw new SlackApiError("invalid_arguments");
      if (!users.has(userId)) throw new SlackApiError("user_not_found");
      validateBlocks(view.blocks, MAX_HOME_BLOCKS);
      const id = homes.get(userId)?.id ?? newId("V");
      homes.set(userId, { id, view, publishes: (homes.get(userId)?.publishes ?? 0) + 1 });
      return { view: { id, team_id: teamId, ...view } };
    },
  };

  function tokenOf(c: Context, params: Params, json: boolean): string | undefined {
    const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
    if (bearer !== undefined) return bearer.trim();
    // Slack takes a token argument in form bodies, but not in JSON ones.
    return json ? undefined : stringParam(params, "token");
  }

  const app = new Hono();

  app.on(["GET", "POST"], "/api/:method", async (c) => {
    const method = c.req.param("method");
    const call: SlackCall = { method, body: {}, headers: c.req.header(), status: 200, ok: false };
    calls.push(call);
    const answer = (body: Record<string, unknown>) => {
      call.ok = body.ok === true;
      if (typeof body.error === "string") call.error = body.error;
      return c.json(body);
    };
    try {
      const { params, json } = await readParams(c);
      call.body = decodeJsonFields(params);
      const token = tokenOf(c, params, json);
      if (token === undefined) throw new SlackApiError("not_authed");
      if (token !== options.botToken) throw new SlackApiError("invalid_auth");
      const limit = rateLimits.get(method);
      if (limit !== undefined && limit.remaining > 0) {
        limit.remaining -= 1;
        call.status = 429;
        call.error = "ratelimited";
        c.header("Retry-After", String(limit.retryAfterSeconds));
        return c.json({ ok: false, error: "ratelimited" }, 429);
      }
      const handler = methods[method];
      if (handler === undefined) {
        call.status = 404;
        call.error = "unknown_method";
        return c.json({ ok: false, error: "unknown_method", req_method: method }, 404);
      }
      return answer({ ok: true, ...handler(call.body, json) });
    } catch (error) {
      if (!(error instanceof SlackApiError)) throw error;
      const metadata = error.details.length === 0 ? {} : { response_metadata: { messages: error.details } };
      return answer({ ok: false, error: error.code, ...metadata });
    }
  });

  // Where files.getUploadURLExternal sends the bytes: a raw body or a multipart file (WebClient's way).
  app.post("/upload/:fileId", async (c) => {
    const upload = uploads.get(c.req.param("fileId"));
    if (upload === undefined || upload.completed) return c.text("not found", 404);
    const type = (c.req.header("content-type") ?? "").toLowerCase();
    let bytes: Buffer;
    if (type.startsWith("multipart/form-data")) {
      const form = await c.req.formData();
      const file = [...form.values()].find((value) => typeof value !== "string");
      if (file === undefined || typeof file === "string") return c.text("no file in the form", 400);
      bytes = Buffer.from(await file.arrayBuffer());
    } else {
      bytes = Buffer.from(await c.req.arrayBuffer());
    }
    upload.bytes = bytes;
    upload.content = bytes.toString("utf8");
    return c.text(`OK - ${bytes.length}`);
  });

  app.post("/response/:id", async (c) => {
    const id = c.req.param("id");
    const url = `${options.baseUrl()}/response/${id}`;
    try {
      const minted = responseUrls.get(id);
      if (minted === undefined) throw new ResponseUrlError(404, "no_service");
      if (now() - minted.mintedAt > RESPONSE_URL_TTL_MS) throw new ResponseUrlError(404, "expired_url");
      if (minted.uses >= RESPONSE_URL_USES) throw new ResponseUrlError(404, "used_url");
      let body: unknown;
      try {
        body = JSON.parse(await c.req.text());
      } catch {
        throw new ResponseUrlError(400, "invalid_payload");
      }
      if (!isRecord(body)) throw new ResponseUrlError(400, "invalid_payload");
      if (body.delete_original !== true) {
        try {
          validateMessage(body);
        } catch (error) {
          if (error instanceof SlackApiError) throw new ResponseUrlError(400, error.code);
          throw error;
        }
      }
      minted.uses += 1;
      const ts = minted.context === undefined ? undefined : landInChannel(minted, body);
      responses.push({ id, url, body, headers: c.req.header(), ...(ts === undefined ? {} : { ts }) });
      return c.text("ok");
    } catch (error) {
      if (error instanceof ResponseUrlError) return c.text(error.code, error.status);
      throw error;
    }
  });

  /** What Slack shows for a response_url post; answers the ts of the message made or changed. */
  function landInChannel(
    minted: { context?: ResponseUrlContext; lastTs?: string },
    body: Record<string, unknown>,
  ): string | undefined {
    const context = minted.context as ResponseUrlContext;
    const originalTs = context.messageTs ?? minted.lastTs;
    const original = messages.find((m) => m.channel === context.channel && m.ts === originalTs);
    if (body.delete_original === true) {
      if (original !== undefined) original.deleted = true;
      return original?.ts;
    }
    const message = validateMessage(body);
    if (body.replace_original === true && original !== undefined) {
      // Slack replaces the whole message: text and blocks both come from the response.
      original.text = message.text;
      original.blocks = message.blocks;
      original.updates += 1;
      return original.ts;
    }
    const ts = nextTs();
    const ephemeral = body.response_type !== "in_channel";
    messages.push({
      channel: context.channel,
      ts,
      ...message,
      ephemeral,
      ...(ephemeral ? { user: context.user } : {}),
      updates: 0,
    });
    minted.lastTs = ts;
    return ts;
  }

  function mintResponseUrl(context?: ResponseUrlContext): string {
    const id = randomBytes(12).toString("hex");
    responseUrls.set(id, { mintedAt: now(), uses: 0, ...(context === undefined ? {} : { context }) });
    return `${options.baseUrl()}/response/${id}`;
  }

  function postUserMessage(input: { channel: string; user: string; text: string; threadTs?: string }) {
    const message: SlackMessage = {
      channel: input.channel,
      ts: nextTs(),
      text: input.text,
      ephemeral: false,
      updates: 0,
      author: input.user,
      ...(input.threadTs === undefined ? {} : { threadTs: input.threadTs }),
    };
    messages.push(message);
    return message;
  }

  const responseUrlContext = z.optional(
    z.object({
      channel: z.string().check(z.minLength(1)),
      user: z.string().check(z.minLength(1)),
      message_ts: z.optional(z.string()),
    }),
  );

  // Not Slack's API: lets a person driving the stand-in by hand (curl, a workbench) mint a
  // response_url (optionally bound to a channel and user) and read what the bot posted.
  app.post("/_stand-in/response-url", async (c) => {
    const text = await c.req.text();
    let raw: unknown;
    try {
      raw = text.trim() === "" ? undefined : JSON.parse(text);
    } catch {
      return c.json({ error: "the body must be JSON: {channel, user, message_ts?}" }, 400);
    }
    const parsed = responseUrlContext.safeParse(raw);
    if (!parsed.success) return c.json({ error: "expected {channel, user, message_ts?}" }, 400);
    const context = parsed.data;
    return c.json({
      response_url: mintResponseUrl(
        context && {
          channel: context.channel,
          user: context.user,
          ...(context.message_ts === undefined ? {} : { messageTs: context.message_ts }),
        },
      ),
    });
  });
  app.get("/_stand-in/responses", (c) => c.json(responses.map(({ id, body }) => ({ id, body }))));
  app.get("/_stand-in/messages", (c) => c.json(messages));

  return {
    app,
    responseUrl: mintResponseUrl,
    postUserMessage,
    rateLimit(method, count, retryAfterSeconds = 1) {
      rateLimits.set(method, { remaining: count, retryAfterSeconds });
    },
    addUser(user) {
      users.set(user.id, { ...user });
    },
    calls,
    messages: (channel) => messages.filter((m) => channel === undefined || m.channel === channel),
    responses: (idOrUrl) =>
      responses.filter((r) => idOrUrl === undefined || r.id === idOrUrl || r.url === idOrUrl),
    uploads: () => [...uploads.values()],
    views: () => [...views],
    homeView: (user) => homes.get(user),
    replaceView(id, view) {
      const opened = views.find((v) => v.id === id);
      if (opened === undefined) return false;
      opened.view = view;
      return true;
    },
    reset() {
      // In place, so references to `calls` held by tests stay live.
      calls.length = 0;
      messages.length = 0;
      responses.length = 0;
      views.length = 0;
      homes.clear();
      uploads.clear();
      rateLimits.clear();
      responseUrls.clear();
      seedUsers();
    },
  };
}

/** Starts the stand-in on loopback (port 0 = any free port). */
export async function startSlackStandIn(
  options: SlackStandInOptions & { host?: string; port?: number },
): Promise<SlackStandIn> {
  const host = options.host ?? "127.0.0.1";
  let base = "";
  const standIn = createSlackStandInApp({ ...options, baseUrl: () => base });
  const server = await new Promise<Server>((resolve, reject) => {
    const started = serve(
      { fetch: standIn.app.fetch, port: options.port ?? 0, hostname: host },
      (info: AddressInfo) => {
        base = `http://${info.family === "IPv6" ? `[${info.address}]` : info.address}:${info.port}`;
        resolve(started as Server);
      },
    );
    started.once("error", reject);
  });
  const { app: _app, ...controls } = standIn;
  return {
    ...controls,
    url: `${base}/api/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // WebClient's fetch keeps connections alive; without this, close waits for them to time out.
        server.closeAllConnections();
      }),
  };
}

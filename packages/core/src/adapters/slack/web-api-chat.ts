import {
  type Block,
  ErrorCode,
  type FilesUploadV2Arguments,
  type KnownBlock,
  LogLevel,
  type RetryOptions,
  type Logger as SlackLogger,
  WebClient,
} from "@slack/web-api";
import type { Logger } from "../../logging/json-logger";
import { type Chat, ChatError, type ChatMessage, type ChatUser } from "../../ports";

export interface WebApiChatOptions {
  /** Bot token (`xoxb-…`); sent only as the bearer header of Web API calls, never in messages. */
  token: string;
  /** Base URL of the Web API; default `https://slack.com/api/` (a stand-in's `url` in tests). */
  slackApiUrl?: string;
  /** fetch for Web API calls and response_url posts; default the global fetch. */
  fetch?: typeof globalThis.fetch;
  /**
   * WebClient's retry policy (node-retry options). WebClient waits out a 429's `Retry-After` and then
   * retries within this budget; `{ retries: 0 }` turns retries off. Default: 2 retries, 0.5 s then 1 s.
   */
  retryConfig?: RetryOptions;
  /**
   * Fail a rate-limited call at once with `ChatError("ratelimited")` instead of waiting for Retry-After.
   * Default: true exactly when `retryConfig.retries` is 0 (waiting would only end in the same error).
   */
  rejectRateLimitedCalls?: boolean;
  /** Per-request time limit in milliseconds; default 10 s. */
  timeoutMs?: number;
  /** Receives WebClient's warnings and errors (its debug output is dropped); default silent. */
  logger?: Logger;
}

/**
 * Short on purpose: the routes run on Lambda with a budget of seconds, not WebClient's default of
 * ten retries over half an hour. Rate limits are still honoured (Retry-After is waited out first).
 */
const DEFAULT_RETRY_CONFIG: RetryOptions = { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 5_000 };
const DEFAULT_TIMEOUT_MS = 10_000;
const REDACTED = "[redacted]";

/** Removes the token from any text leaving this adapter (errors, log lines). */
function redactor(token: string): (text: string) => string {
  return (text) => (token === "" ? text : text.split(token).join(REDACTED));
}

/** WebClient's logger interface, forwarding warnings and errors (token-free) to ours. */
function quietLogger(logger: Logger | undefined, redact: (text: string) => string): SlackLogger {
  const line = (parts: unknown[]) => redact(parts.map((part) => String(part)).join(" "));
  return {
    debug: () => {},
    info: (...parts: unknown[]) => logger?.info("slack web api", { detail: line(parts) }),
    warn: (...parts: unknown[]) => logger?.warn("slack web api", { detail: line(parts) }),
    error: (...parts: unknown[]) => logger?.error("slack web api", { detail: line(parts) }),
    setLevel: () => {},
    getLevel: () => LogLevel.WARN,
    setName: () => {},
  };
}

/** The shape of the errors WebClient throws (`WebAPIPlatformError`, `WebAPIRateLimitedError`, …). */
interface WebClientError {
  code?: unknown;
  message?: unknown;
  data?: { error?: unknown; response_metadata?: { messages?: unknown } };
  retryAfter?: unknown;
  statusCode?: unknown;
}

/** Turns a WebClient error into ChatError with Slack's error string as the code. */
function toChatError(error: unknown, method: string, redact: (text: string) => string): ChatError {
  if (error instanceof ChatError) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as WebClientError;
  const message = typeof e.message === "string" ? e.message : String(error);
  const fail = (code: string, detail: string) => new ChatError(code, redact(`Slack ${method}: ${detail}`));
  switch (e.code) {
    case ErrorCode.PlatformError: {
      const code = typeof e.data?.error === "string" ? e.data.error : "unknown_error";
      const details = e.data?.response_metadata?.messages;
      const why = Array.isArray(details) && details.length > 0 ? ` (${details.join("; ")})` : "";
      return fail(code, `${code}${why}`);
    }
    case ErrorCode.RateLimitedError:
      return fail("ratelimited", `rate limited; retry after ${String(e.retryAfter)} s`);
    case ErrorCode.HTTPError:
      return fail("http_error", `HTTP ${String(e.statusCode)}`);
    case ErrorCode.RequestError:
      // WebClient reports "rate limited and out of retries" as a request error; keep it recognisable.
      if (message.includes("A rate limit was exceeded"))
        return fail("ratelimited", "rate limited; out of retries");
      return fail("request_failed", message);
    case ErrorCode.FileUploadInvalidArgumentsError:
    case ErrorCode.FileUploadReadFileDataError:
      return fail("invalid_arguments", message);
    default:
      return fail("request_failed", message);
  }
}

/** WebClient types blocks as Block Kit unions; the port carries plain JSON objects. */
function blocksFor(message: ChatMessage): (KnownBlock | Block)[] | undefined {
  return message.blocks === undefined
    ? undefined
    : ([...message.blocks] as unknown as (KnownBlock | Block)[]);
}

/** The `Chat` port over Slack's Web API with `@slack/web-api`'s WebClient. */
export function createWebApiChat(options: WebApiChatOptions): Chat {
  const redact = redactor(options.token);
  const retryConfig = options.retryConfig ?? DEFAULT_RETRY_CONFIG;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const client = new WebClient(options.token, {
    slackApiUrl: options.slackApiUrl ?? "https://slack.com/api/",
    logger: quietLogger(options.logger, redact),
    retryConfig,
    rejectRateLimitedCalls: options.rejectRateLimitedCalls ?? retryConfig.retries === 0,
    timeout: timeoutMs,
    fetch: fetchFn,
  });

  async function call<T>(method: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toChatError(error, method, redact);
    }
  }

  return {
    async userInfo(userId) {
      const result = await call("users.info", () => client.users.info({ user: userId }));
      const user = result.user;
      if (user?.id === undefined)
        throw new ChatError("user_not_found", `Slack users.info: no user ${userId}`);
      const chatUser: ChatUser = {
        id: user.id,
        // Slackbot is not flagged is_bot, but it is not a person who may run commands either.
        isBot: user.is_bot === true || user.id === "USLACKBOT",
        deleted: user.deleted === true,
      };
      const email = user.profile?.email;
      if (email) chatUser.email = email;
      const name = user.name || user.real_name;
      if (name) chatUser.name = name;
      return chatUser;
    },

    async postMessage({ channel, threadTs, ...message }) {
      const result = await call("chat.postMessage", () =>
        client.chat.postMessage({
          channel,
          text: message.text,
          blocks: blocksFor(message),
          ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
        }),
      );
      if (result.ts === undefined)
        throw new ChatError("invalid_response", "Slack chat.postMessage: the answer has no ts");
      return { channel: result.channel ?? channel, ts: result.ts };
    },

    async postEphemeral({ channel, user, threadTs, ...message }) {
      await call("chat.postEphemeral", () =>
        client.chat.postEphemeral({
          channel,
          user,
          text: message.text,
          blocks: blocksFor(message),
          ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
        }),
      );
    },

    async updateMessage({ channel, ts, ...message }) {
      await call("chat.update", () =>
        client.chat.update({ channel, ts, text: message.text, blocks: blocksFor(message) }),
      );
    },

    async openView(triggerId, view) {
      await call("views.open", () =>
        // The view is Block Kit JSON we built; WebClient's View type is stricter than our port's.
        client.views.open({
          trigger_id: triggerId,
          view: view as unknown as Parameters<typeof client.views.open>[0]["view"],
        }),
      );
    },

    async updateView(viewId, view) {
      await call("views.update", () =>
        client.views.update({
          view_id: viewId,
          view: view as unknown as Parameters<typeof client.views.update>[0]["view"],
        }),
      );
    },

    async publishView(userId, view) {
      await call("views.publish", () =>
        client.views.publish({
          user_id: userId,
          view: view as unknown as Parameters<typeof client.views.publish>[0]["view"],
        }),
      );
    },

    async respond(responseUrl, message) {
      // Not a Web API call: the URL is the credential, so no token goes with it (and it is not logged).
      const body = JSON.stringify({
        response_type: message.responseType,
        text: message.text,
        blocks: message.blocks,
        replace_original: message.replaceOriginal ?? false,
      });
      let host: string;
      try {
        host = new URL(responseUrl).host;
      } catch {
        throw new ChatError("response_url_failed", "Slack response_url: not a URL");
      }
      let response: Response;
      try {
        response = await fetchFn(responseUrl, {
          method: "POST",
          headers: { "content-type": "application/json; charset=utf-8" },
          body,
          redirect: "error",
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        throw new ChatError("response_url_failed", redact(`Slack response_url at ${host}: ${why}`));
      }
      const answer = (await response.text().catch(() => "")).slice(0, 200);
      if (!response.ok) {
        throw new ChatError(
          "response_url_failed",
          redact(`Slack response_url at ${host} answered HTTP ${response.status}: ${answer}`),
        );
      }
    },

    async uploadFile({ channel, threadTs, filename, content, title, initialComment }) {
      const common = {
        channel_id: channel,
        filename,
        content,
        ...(title === undefined ? {} : { title }),
        ...(initialComment === undefined ? {} : { initial_comment: initialComment }),
      };
      // WebClient's types allow thread_ts only when it is a string, so the two shapes are built apart.
      const args: FilesUploadV2Arguments =
        threadTs === undefined ? common : { ...common, thread_ts: threadTs };
      await call("files.uploadV2", () => client.filesUploadV2(args));
    },
  };
}

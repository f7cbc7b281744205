import type { FailureClass } from "./failure-class";

/** Exit status reported when a command runs out of its time budget (as `timeout(1)` does). */
export const EXIT_TIMEOUT = 124;

/** The outcome of one Victoria command line. */
export interface CommandResult {
  /** 0 success, 1 failure, 2 usage error; 124 when the time budget ran out. */
  exitCode: number;
  /** Everything the command printed, stdout and stderr interleaved. */
  output: string;
  /** For a non-zero exit: why, as far as retrying goes (absent when the runner cannot tell). */
  failureClass?: FailureClass;
  /** The output may reveal a secret: show it to the requester only, audit its digest only. */
  sensitive?: boolean;
}

/**
 * Runs Victoria command lines: in-process with the TypeScript engine, or an external `victoria` binary.
 * Rejects only for an uncaught exception (the engine crashed, the binary could not start).
 */
export interface CommandRunner {
  /** `actor` names who asked (audit and dead-letter resolutions); defaults to the environment's user. */
  run(args: readonly string[], options?: { actor?: string }): Promise<CommandResult>;
}

/** A Slack user as the authorization chain needs it. */
export interface ChatUser {
  id: string;
  /** Absent when the app lacks `users:read.email` or the user has no email. */
  email?: string;
  name?: string;
  isBot: boolean;
  deleted: boolean;
}

/** A Slack message body: fallback text plus optional Block Kit blocks. */
export interface ChatMessage {
  text: string;
  blocks?: readonly Record<string, unknown>[];
}

/** A failed Slack call: `code` is Slack's error string (`user_not_found`, `ratelimited`, ...). */
export class ChatError extends Error {
  override readonly name = "ChatError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Slack, as the routes use it. Implemented with `@slack/web-api`'s WebClient. */
export interface Chat {
  userInfo(userId: string): Promise<ChatUser>;
  postMessage(
    args: ChatMessage & { channel: string; threadTs?: string },
  ): Promise<{ channel: string; ts: string }>;
  postEphemeral(args: ChatMessage & { channel: string; user: string; threadTs?: string }): Promise<void>;
  updateMessage(args: ChatMessage & { channel: string; ts: string }): Promise<void>;
  /** Opens a modal (`views.open`) for an interaction's `trigger_id` (valid for 3 seconds). */
  openView(triggerId: string, view: Record<string, unknown>): Promise<void>;
  /** Replaces an open modal (`views.update`), e.g. a dialog's "Counting…" with what was counted. */
  updateView(viewId: string, view: Record<string, unknown>): Promise<void>;
  /** Publishes a user's App Home tab (`views.publish`, a view of type `home`), replacing what it showed. */
  publishView(userId: string, view: Record<string, unknown>): Promise<void>;
  /** POSTs to an interaction's `response_url` (not a Web API method; no bot token). */
  respond(
    responseUrl: string,
    message: ChatMessage & { responseType: "ephemeral" | "in_channel"; replaceOriginal?: boolean },
  ): Promise<void>;
  /** Uploads a text file into a channel (thread), e.g. output too long for a message. */
  uploadFile(args: {
    channel: string;
    threadTs?: string;
    filename: string;
    content: string;
    title?: string;
    initialComment?: string;
  }): Promise<void>;
}

/** The SRE group: is this email one of its members (directly or through nested groups)? */
export interface Directory {
  isMember(email: string): Promise<boolean>;
}

/** Work handed off after the HTTP acknowledgement; must survive the Lambda freeze on AWS. */
export interface Job {
  kind: string;
  /** JSON-serialisable input of the job. */
  payload: unknown;
  /**
   * The request id, which correlates every hop. Callers leave it out: the dispatcher stamps the
   * current request's (logging/request-context.ts), and the worker runs the job under it.
   */
  requestId?: string;
}

export interface Dispatcher {
  /** Resolves once the job is durably handed off (not when it has run). */
  dispatch(job: Job): Promise<void>;
}

import { isValidEmailAddress } from "../../deadletter/email-address";
import type { Mailer } from "../../deadletter/mailer";
import { createSmtpMailer, type SmtpMailerOptions } from "./smtp-mailer";

export type MailEnv = Readonly<Record<string, string | undefined>>;

/** What email needs, in the order operators see them in the README. */
export const MAIL_VARIABLES = ["SMTP_URL", "MAIL_FROM"] as const;

export interface MailEnvDeps {
  /** TLS trust for a private CA or a stand-in (`{ ca }`). */
  tls?: SmtpMailerOptions["tls"];
  /** Budget for one send; the mailer's default (10 s) otherwise. */
  timeoutMs?: number;
}

const SHAPE = "smtp://[user:password@]host[:port] or smtps://…";

const value = (env: MailEnv, name: string): string | undefined => {
  const text = env[name]?.trim();
  return text ? text : undefined;
};

/** Decodes a URL's user or password; a bad %-escape is reported without echoing anything. */
function decoded(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new Error(`SMTP_URL has a malformed ${what} (bad %-escape)`);
  }
}

/**
 * `SMTP_URL` as mailer options. Messages name the variable, never its text: the URL carries the
 * password (and Node's own URL error would quote the input, so it is not passed on as a cause).
 */
export function parseSmtpUrl(text: string): Omit<SmtpMailerOptions, "from"> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`SMTP_URL is not a URL; expected ${SHAPE}`);
  }
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:") {
    throw new Error(`SMTP_URL must use smtp: (STARTTLS) or smtps: (TLS); expected ${SHAPE}`);
  }
  // smtp: is not a WHATWG special scheme, so its host stays opaque: lowercase and unbracket it here.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (host === "") throw new Error(`SMTP_URL names no host; expected ${SHAPE}`);
  if ((url.pathname !== "" && url.pathname !== "/") || url.search !== "" || url.hash !== "") {
    throw new Error(`SMTP_URL has something after the host and port; expected ${SHAPE}`);
  }
  const secure = url.protocol === "smtps:";
  const port = url.port === "" ? (secure ? 465 : 587) : Number(url.port);
  const user = url.username === "" ? undefined : decoded(url.username, "user name");
  const password = url.password === "" ? undefined : decoded(url.password, "password");
  return { host, port, secure, user, password };
}

/** The address inside `MAIL_FROM`: `victoria@example.com` or `Victoria <victoria@example.com>`. */
function isValidSender(text: string): boolean {
  const angled = /^[^<>\r\n]*<([^<>]+)>$/.exec(text);
  return isValidEmailAddress(angled ? (angled[1] as string) : text);
}

/**
 * An SMTP mailer from `SMTP_URL` and `MAIL_FROM`. Throws an Error naming the missing or malformed
 * variables (never their values) when email is not configured.
 */
export function createMailerFromEnv(env: MailEnv, deps: MailEnvDeps = {}): Mailer {
  const missing = MAIL_VARIABLES.filter((name) => value(env, name) === undefined);
  const given = MAIL_VARIABLES.filter((name) => !missing.includes(name));
  if (missing.length > 0 && given.length > 0) {
    // Named both ways: the operator who set one of them meant to configure email.
    throw new Error(
      `Email is half configured: ${given.join(", ")} is set but ${missing.join(", ")} is not; set both, or neither`,
    );
  }
  if (missing.length > 0) throw new Error(`Email is not configured: set ${missing.join(", ")}`);
  const from = value(env, "MAIL_FROM") as string;
  if (!isValidSender(from)) {
    throw new Error(
      "MAIL_FROM is not an email address; expected name@example.com or Name <name@example.com>",
    );
  }
  return createSmtpMailer({
    ...parseSmtpUrl(value(env, "SMTP_URL") as string),
    from,
    ...(deps.tls ? { tls: deps.tls } : {}),
    ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
  });
}

import nodemailer, {
  type NodemailerError,
  type SendMailOptions,
  type SMTPTransportOptions,
} from "nodemailer";
import { InvalidEmailAddressError, isValidEmailAddress } from "../../deadletter/email-address";
import { type Mail, MailError, type Mailer } from "../../deadletter/mailer";

export interface SmtpMailerOptions {
  host: string;
  /** 587 (STARTTLS) or 25 for plain SMTP, 465 with `secure`. */
  port: number;
  /** TLS from the first byte (SMTPS, port 465); otherwise STARTTLS when the server offers it. */
  secure?: boolean;
  /**
   * Fail unless the connection is upgraded with STARTTLS. Default: true when a password is set and
   * `secure` is not, so a stripped STARTTLS can never make us send the password in clear text.
   */
  requireTls?: boolean;
  user?: string;
  password?: string;
  /** The sender, `victoria@example.com` or `Victoria <victoria@example.com>`. */
  from: string;
  /** Trust a private CA (PEM), or (tests only) skip certificate checks. */
  tls?: { ca?: string; rejectUnauthorized?: boolean };
  /** Budget for one whole send (connect, greeting, TLS, login, transfer); default 10 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_RESPONSE_IN_MESSAGE = 300;
const REDACTED = "[redacted]";

/** Every form the password could take on the wire (AUTH LOGIN and AUTH PLAIN send it base64-encoded). */
function redactor(user: string | undefined, password: string | undefined): (text: string) => string {
  if (!password) return (text) => text;
  const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
  const secrets = [`\0${user ?? ""}\0${password}`, password].flatMap((secret) => [secret, base64(secret)]);
  return (text) => secrets.reduce((out, secret) => out.split(secret).join(REDACTED), text);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: folding a reply's CR/LF and other controls
const CONTROL_RUNS = /[\u0000-\u001f\u007f]+/g;

/** A server reply as it may appear in our messages: one line, bounded, without secrets. */
function serverReply(response: string | undefined, redact: (text: string) => string): string {
  if (!response) return "";
  const line = redact(response).replace(CONTROL_RUNS, " ").trim();
  return `: ${line.length > MAX_RESPONSE_IN_MESSAGE ? `${line.slice(0, MAX_RESPONSE_IN_MESSAGE - 1)}…` : line}`;
}

/** Socket-level codes that mean "no usable connection", as opposed to a TLS or protocol failure. */
const UNREACHABLE_CODES = new Set(["ECONNECTION", "ETIMEDOUT", "ESOCKET", "EDNS", "EPROXY"]);
/** SMTP replies about authentication (RFC 4954): required, too weak, invalid, encryption required. */
const AUTH_REPLIES = new Set([530, 534, 535, 538]);
/** Node/OpenSSL certificate and handshake failures surfacing as a socket error. */
const TLS_ORIGINAL_CODE = /CERT|SELF_SIGNED|TLS|SSL|HOSTNAME|ALTNAME|UNABLE_TO_(GET|VERIFY)/;

interface Context {
  where: string;
  to: string;
  timeoutMs: number;
  redact: (text: string) => string;
}

/** Nodemailer's error (code, SMTP command and reply) as one of our MailError codes. */
function toMailError(error: unknown, context: Context): MailError {
  if (error instanceof MailError) return error;
  const { where, to, timeoutMs, redact } = context;
  const e = (typeof error === "object" && error !== null ? error : {}) as NodemailerError;
  const reply = serverReply(e.response, redact);
  const fail = (code: string, message: string) => new MailError(code, redact(message));
  const status = e.responseCode ?? 0;

  if (e.code === "EABORT" || e.name === "TimeoutError") {
    return fail("unreachable", `SMTP server ${where} did not complete the send within ${timeoutMs} ms`);
  }
  if (e.code === "EAUTH" || e.code === "ENOAUTH" || AUTH_REPLIES.has(status)) {
    return fail("auth_failed", `SMTP server ${where} refused the login${reply}`);
  }
  if (e.code === "ETLS" || e.code === "EREQUIRETLS" || TLS_ORIGINAL_CODE.test(e.originalCode ?? "")) {
    const detail = reply || (e.originalCode ? `: ${e.originalCode}` : "");
    return fail("tls_failed", `Could not set up TLS with SMTP server ${where}${detail}`);
  }
  if (e.code !== undefined && UNREACHABLE_CODES.has(e.code)) {
    const detail = e.originalCode ?? (e.timeoutType ? "timed out" : e.code);
    return fail("unreachable", `SMTP server ${where} is unreachable (${detail})${reply}`);
  }
  if (status >= 400 && status < 500) {
    return fail("temporarily_refused", `SMTP server ${where} refused for now, try again later${reply}`);
  }
  if (e.command === "RCPT TO") {
    return fail("recipient_refused", `SMTP server ${where} refused the recipient ${to}${reply}`);
  }
  if (e.command === "MAIL FROM" && e.code === "EENVELOPE") {
    return fail("sender_refused", `SMTP server ${where} refused the sender address${reply}`);
  }
  if (e.code === "EMESSAGE" || e.code === "EENVELOPE" || e.command === "DATA") {
    return fail("message_refused", `SMTP server ${where} refused the message${reply}`);
  }
  const message = typeof e.message === "string" ? e.message : String(error);
  return fail("send_failed", `Sending through SMTP server ${where} failed: ${message}`);
}

const attachmentContent = (content: string | Uint8Array): string | Buffer =>
  typeof content === "string" ? content : Buffer.from(content.buffer, content.byteOffset, content.byteLength);

/**
 * A Mailer over SMTP. One transport, but no pool: each send opens its own connection. Mail goes out
 * on a human's click, seconds or days apart, and Lambda freezes containers in between — a pooled
 * connection would be long dropped by the server (or hang) when the next click thaws it.
 */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const secure = options.secure ?? false;
  const hasPassword = options.password !== undefined && options.password !== "";
  const transportOptions: SMTPTransportOptions = {
    host: options.host,
    port: options.port,
    secure,
    requireTLS: options.requireTls ?? (hasPassword && !secure),
    auth:
      hasPassword || options.user ? { user: options.user ?? "", pass: options.password ?? "" } : undefined,
    tls: { minVersion: "TLSv1.2", ...options.tls },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    // After QUIT (or a failure) nothing more is read: close at once rather than wait for the peer.
    socketCloseTimeout: 0,
    logger: false,
  };
  const transport = nodemailer.createTransport(transportOptions);
  const where = `${options.host}:${options.port}`;
  const redact = redactor(options.user, options.password);

  return {
    async send(mail: Mail): Promise<void> {
      // One address only: a comma or angle brackets would let the text smuggle in more recipients.
      if (!isValidEmailAddress(mail.to)) {
        throw new MailError("invalid_recipient", new InvalidEmailAddressError(mail.to).message);
      }
      const message: SendMailOptions = {
        from: options.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        attachments: (mail.attachments ?? []).map((attachment) => ({
          filename: attachment.filename,
          content: attachmentContent(attachment.content),
          ...(attachment.contentType ? { contentType: attachment.contentType } : {}),
        })),
        // Content is always inline; never let a string be read as a path or URL.
        disableFileAccess: true,
        disableUrlAccess: true,
        // The phase timeouts bound each wait; this bounds the whole send.
        signal: AbortSignal.timeout(timeoutMs),
      };
      try {
        await transport.sendMail(message);
      } catch (error) {
        throw toMailError(error, { where, to: mail.to, timeoutMs, redact });
      }
    },
  };
}

import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/** A part of a received message that is not its text: what a mail client would list. */
export interface ReceivedAttachment {
  filename: string;
  contentType: string;
  /** Decoded size in bytes. */
  size: number;
}

/** One message the stand-in accepted: the envelope, the raw MIME text, and what a reader sees of it. */
export interface ReceivedMail {
  /** Envelope sender (MAIL FROM). */
  from: string;
  /** Envelope recipients (RCPT TO). */
  to: string[];
  raw: string;
  /** When the stand-in accepted it (ISO 8601). */
  receivedAt: string;
  /** The headers as a mail client shows them, encoded words decoded; absent when not sent. */
  headers: { from?: string; to?: string; subject?: string; date?: string };
  /** The first text/plain part, decoded, with `\n` line ends; "" when there is none. */
  text: string;
  attachments: ReceivedAttachment[];
}

export interface SmtpStandIn {
  /** `smtp://127.0.0.1:<port>`, as SMTP_URL takes it. */
  url: string;
  /** Every message accepted, in order. */
  readonly received: readonly ReceivedMail[];
  close(): Promise<void>;
}

export interface SmtpStandInOptions {
  host?: string;
  /** 0 (the default) = any free port. */
  port?: number;
}

/**
 * A plain SMTP server on loopback (no TLS, no login) that accepts every message and keeps it: the
 * SMTP_URL of the twin and of `npm start` when the operator names no real server.
 */
export async function startSmtpStandIn({
  host = "127.0.0.1",
  port = 0,
}: SmtpStandInOptions = {}): Promise<SmtpStandIn> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw,
          receivedAt: new Date().toISOString(),
          ...readMessage(raw),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.server.address() as AddressInfo;
  return {
    url: `smtp://${host}:${address.port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Entity {
  headers: Map<string, string>;
  body: string;
}

/** Headers (unfolded, names in lower case, first occurrence wins) and the body of a MIME entity. */
function splitEntity(text: string): Entity {
  const end = /\r?\n\r?\n/.exec(text);
  const head = end ? text.slice(0, end.index) : text;
  const body = end ? text.slice(end.index + end[0].length) : "";
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body };
}

/** `type/subtype; a=b; c="d"` → the type in lower case and its parameters (RFC 2231 `x*=utf-8''…` decoded). */
function parameterised(value: string | undefined): { value: string; params: Map<string, string> } {
  const [first = "", ...rest] = (value ?? "").split(";");
  const params = new Map<string, string>();
  for (const part of rest) {
    const match = /^\s*([^=\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/.exec(part);
    if (!match) continue;
    const name = (match[1] as string).toLowerCase();
    const raw = match[2] !== undefined ? match[2].replace(/\\(.)/g, "$1") : (match[3] ?? "");
    if (name.endsWith("*")) {
      const extended = /^([^']*)'[^']*'(.*)$/.exec(raw);
      params.set(name.slice(0, -1), extended ? safeDecodeUri(extended[2] as string) : raw);
    } else if (!params.has(name)) params.set(name, raw);
  }
  return { value: first.trim().toLowerCase(), params };
}

function safeDecodeUri(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset || "utf-8").decode(bytes);
  } catch {
    // An unknown charset label: UTF-8 is what nodemailer writes anyway.
    return bytes.toString("utf8");
  }
}

function quotedPrintable(text: string): Buffer {
  const soft = text.replace(/=\r?\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const hex = soft[i] === "=" ? soft.slice(i + 1, i + 3) : "";
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(soft[i] as string, "utf8"));
  }
  return Buffer.from(bytes);
}

function transferDecoded(body: string, encoding: string | undefined): Buffer {
  const name = (encoding ?? "").trim().toLowerCase();
  if (name === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64");
  if (name === "quoted-printable") return quotedPrintable(body);
  return Buffer.from(body, "utf8");
}

/** RFC 2047 encoded words (`=?utf-8?Q?…?=`, `=?utf-8?B?…?=`), as nodemailer writes non-ASCII headers. */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, "$1$2")
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset: string, kind: string, text: string) =>
      decodeCharset(
        kind.toUpperCase() === "B" ? Buffer.from(text, "base64") : quotedPrintable(text.replace(/_/g, " ")),
        charset.split("*")[0],
      ),
    );
}

/** What a reader sees of a message: its headers, its text and its attachments. Best effort, never throws. */
function readMessage(raw: string): Pick<ReceivedMail, "headers" | "text" | "attachments"> {
  const top = splitEntity(raw);
  const header = (name: string) => {
    const value = top.headers.get(name);
    return value === undefined ? {} : { [name]: decodeWords(value) };
  };
  let text: string | undefined;
  const attachments: ReceivedAttachment[] = [];
  const visit = (entity: Entity, depth: number) => {
    const type = parameterised(entity.headers.get("content-type") ?? "text/plain");
    const boundary = type.params.get("boundary");
    if (type.value.startsWith("multipart/") && boundary && depth < 8) {
      const parts = entity.body.split(`--${boundary}`);
      // Before the first delimiter is the preamble; from the closing `--boundary--` on, the epilogue.
      for (const part of parts.slice(1)) {
        if (part.startsWith("--")) break;
        visit(splitEntity(part.replace(/^[ \t]*\r?\n/, "").replace(/\r?\n$/, "")), depth + 1);
      }
      return;
    }
    const bytes = transferDecoded(entity.body, entity.headers.get("content-transfer-encoding"));
    const disposition = parameterised(entity.headers.get("content-disposition"));
    const filename = disposition.params.get("filename") ?? type.params.get("name");
    if (
      text === undefined &&
      type.value === "text/plain" &&
      disposition.value !== "attachment" &&
      !filename
    ) {
      // As a reader sees it: line ends as in the page, not as on the wire.
      text = decodeCharset(bytes, type.params.get("charset")).replace(/\r\n/g, "\n").replace(/\n$/, "");
      return;
    }
    attachments.push({
      filename: filename === undefined ? "(unnamed)" : decodeWords(filename),
      contentType: type.value,
      size: bytes.length,
    });
  };
  visit(top, 0);
  return {
    headers: { ...header("from"), ...header("to"), ...header("subject"), ...header("date") },
    text: text ?? "",
    attachments,
  };
}

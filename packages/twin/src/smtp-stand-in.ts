import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/** One message the stand-in accepted: the envelope and the raw MIME text. */
export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

export interface SmtpStandIn {
  /** `smtp://127.0.0.1:<port>`, as SMTP_URL takes it. */
  url: string;
  /** Every message accepted, in order. */
  readonly received: readonly ReceivedMail[];
  close(): Promise<void>;
}

/**
 * A plain SMTP server on loopback (no TLS, no login) that accepts every message and keeps it, for
 * the twin's SMTP_URL when the operator names no real one.
 */
export async function startSmtpStandIn({ host = "127.0.0.1" }: { host?: string } = {}): Promise<SmtpStandIn> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://${host}:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

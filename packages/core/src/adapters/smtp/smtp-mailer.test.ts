import { createServer, type Server, type Socket } from "node:net";
import { createSelfSignedCert } from "@victoria/emulators/self-signed-cert";
import { SMTPServer, type SMTPServerError, type SMTPServerOptions } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MailError, type Mailer } from "../../deadletter/mailer";
import { createMailerFromEnv } from "./mail-from-env";
import { createSmtpMailer } from "./smtp-mailer";

/** What a loopback server accepted: envelope, login and the raw MIME text. */
interface Delivery {
  from: string;
  to: string[];
  user: string | undefined;
  secure: boolean;
  raw: string;
}

interface TestServer {
  port: number;
  deliveries: Delivery[];
  logins: { username: string | undefined; password: string | null | undefined }[];
  close(): Promise<void>;
}

const USER = "victoria@example.com";
// Characters that need %-escaping in a URL and that show up differently in base64 (AUTH PLAIN/LOGIN).
const PASSWORD = "s3cr3t:p@ss/wörd%";
const FROM = "Victoria <victoria@victoria.example>";

const refusal = (message: string, responseCode: number): SMTPServerError =>
  Object.assign(new Error(message), { responseCode });

/** An smtp-server on 127.0.0.1:0 that refuses some domains, senders and subjects on purpose. */
async function startServer(options: SMTPServerOptions): Promise<TestServer> {
  const deliveries: Delivery[] = [];
  const logins: TestServer["logins"] = [];
  const server = new SMTPServer({
    logger: false,
    onAuth(auth, _session, callback) {
      logins.push({ username: auth.username, password: auth.password });
      if (auth.username === USER && auth.password === PASSWORD) callback(null, { user: auth.username });
      // Echoes what it got, like a careless server might: the mailer must scrub it from its errors.
      else callback(refusal(`Invalid login ${auth.username} / ${auth.password}`, 535));
    },
    onMailFrom(address, _session, callback) {
      callback(address.address.startsWith("blocked@") ? refusal("Sender not allowed", 550) : null);
    },
    onRcptTo(address, _session, callback) {
      if (address.address.endsWith("@refused.example")) callback(refusal("No such user here", 550));
      else if (address.address.endsWith("@busy.example")) callback(refusal("Mailbox busy, try later", 450));
      else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        if (/^Subject: REJECT-ME/m.test(raw)) return callback(refusal("Message content rejected", 554));
        deliveries.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          user: typeof session.user === "string" ? session.user : undefined,
          secure: session.secure,
          raw,
        });
        callback();
      });
    },
    ...options,
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    deliveries,
    logins,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The MIME parts of a raw message, just enough to find headers, text and attachments. */
interface Part {
  headers: Map<string, string>;
  body: string;
}

function parsePart(text: string): Part {
  const split = text.indexOf("\r\n\r\n");
  const head = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? "" : text.slice(split + 4);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function parseMessage(raw: string): { top: Part; parts: Part[] } {
  const top = parsePart(raw);
  const boundary = /boundary="?([^";]+)"?/.exec(top.headers.get("content-type") ?? "")?.[1];
  if (!boundary) return { top, parts: [top] };
  const sections = top.body.split(`--${boundary}`).slice(1, -1);
  return { top, parts: sections.map((section) => parsePart(section.replace(/^\r\n/, ""))) };
}

function decodedBody(part: Part): Buffer {
  const encoding = part.headers.get("content-transfer-encoding")?.toLowerCase();
  if (encoding === "base64") return Buffer.from(part.body.replace(/\s+/g, ""), "base64");
  // 7bit/quoted-printable text travels with CRLF line ends; our ASCII text needs no QP decoding.
  return Buffer.from(part.body.replace(/\r\n$/, "").replace(/\r\n/g, "\n"), "utf8");
}

const attachmentNamed = (parts: Part[], filename: string) =>
  parts.find((part) => (part.headers.get("content-disposition") ?? "").includes(`filename=${filename}`));

/** Resolves to the MailError the promise rejected with (fails the test if it resolved). */
async function mailError(promise: Promise<unknown>): Promise<MailError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MailError);
  return error as MailError;
}

/** No form of the password in a message: plain, %-escaped, or base64 of the password / AUTH PLAIN token. */
function expectNoPassword(text: string): void {
  const forms = [
    PASSWORD,
    encodeURIComponent(PASSWORD),
    Buffer.from(PASSWORD).toString("base64"),
    Buffer.from(`\0${USER}\0${PASSWORD}`).toString("base64"),
  ];
  for (const form of forms) expect(text).not.toContain(form);
}

describe("SMTP mailer over the wire", () => {
  let plain: TestServer; // no AUTH, no STARTTLS
  let secured: TestServer; // STARTTLS with our own CA, AUTH required
  let cert: { key: string; cert: string };

  beforeAll(async () => {
    cert = createSelfSignedCert({ ipAddresses: ["127.0.0.1"] });
    plain = await startServer({ authOptional: true, disabledCommands: ["AUTH", "STARTTLS"] });
    secured = await startServer({ key: cert.key, cert: cert.cert, authMethods: ["PLAIN", "LOGIN"] });
  });
  afterAll(async () => {
    await Promise.all([plain?.close(), secured?.close()]);
  });

  const plainMailer = (from = FROM): Mailer =>
    createSmtpMailer({ host: "127.0.0.1", port: plain.port, from, timeoutMs: 5_000 });

  it("delivers To, Subject, the text and both attachments intact", async () => {
    const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
    const json = JSON.stringify({ id: "dl-1", body: "ünïcödé payload" }, null, 2);
    await plainMailer().send({
      to: "oncall@team.example",
      subject: "Dead letter m-42 on prod/orders",
      text: "A dead letter parked by Victoria.\nCluster: prod",
      attachments: [
        { filename: "dead-letter-dl-1.json", content: json, contentType: "application/json" },
        { filename: "body.bin", content: binary.subarray(16, 80) },
      ],
    });

    const delivery = plain.deliveries.at(-1);
    expect(delivery?.to).toEqual(["oncall@team.example"]);
    expect(delivery?.from).toBe("victoria@victoria.example");
    const { top, parts } = parseMessage(delivery?.raw ?? "");
    expect(top.headers.get("to")).toBe("oncall@team.example");
    expect(top.headers.get("subject")).toBe("Dead letter m-42 on prod/orders");
    expect(top.headers.get("from")).toBe("Victoria <victoria@victoria.example>");

    const text = parts.find((part) => part.headers.get("content-type")?.startsWith("text/plain"));
    expect(text && decodedBody(text).toString("utf8")).toBe(
      "A dead letter parked by Victoria.\nCluster: prod",
    );

    const jsonPart = attachmentNamed(parts, "dead-letter-dl-1.json");
    expect(jsonPart?.headers.get("content-type")).toContain("application/json");
    expect(jsonPart?.headers.get("content-transfer-encoding")).toBe("base64");
    expect(jsonPart && decodedBody(jsonPart).toString("utf8")).toBe(json);

    const binPart = attachmentNamed(parts, "body.bin");
    expect(binPart && [...decodedBody(binPart)]).toEqual([...binary.subarray(16, 80)]);
  });

  it("keeps a newline in the subject from adding headers or recipients", async () => {
    await plainMailer().send({
      to: "oncall@team.example",
      subject: "hello\r\nBcc: thief@evil.example",
      text: "x",
    });
    const delivery = plain.deliveries.at(-1);
    expect(delivery?.to).toEqual(["oncall@team.example"]);
    expect(delivery?.raw).not.toMatch(/^Bcc:/im);
  });

  it("refuses a recipient that is not one address without contacting the server", async () => {
    const before = plain.deliveries.length;
    const error = await mailError(
      plainMailer().send({ to: "a@team.example, thief@evil.example", subject: "s", text: "t" }),
    );
    expect(error.code).toBe("invalid_recipient");
    expect(error.message).toBe("'a@team.example, thief@evil.example' is not an email address");
    expect(plain.deliveries.length).toBe(before);
  });

  it("maps a 550 on RCPT TO to recipient_refused, with the server's reply", async () => {
    const error = await mailError(
      plainMailer().send({ to: "nobody@refused.example", subject: "s", text: "t" }),
    );
    expect(error.code).toBe("recipient_refused");
    expect(error.message).toContain("nobody@refused.example");
    expect(error.message).toContain("550 No such user here");
  });

  it("maps a 4xx on RCPT TO to temporarily_refused", async () => {
    const error = await mailError(
      plainMailer().send({ to: "someone@busy.example", subject: "s", text: "t" }),
    );
    expect(error.code).toBe("temporarily_refused");
    expect(error.message).toContain("450");
  });

  it("maps a refused sender to sender_refused and a refused message to message_refused", async () => {
    const sender = await mailError(
      plainMailer("blocked@victoria.example").send({ to: "oncall@team.example", subject: "s", text: "t" }),
    );
    expect(sender.code).toBe("sender_refused");
    const message = await mailError(
      plainMailer().send({ to: "oncall@team.example", subject: "REJECT-ME", text: "t" }),
    );
    expect(message.code).toBe("message_refused");
    expect(message.message).toContain("554 Message content rejected");
  });

  it("logs in over STARTTLS, trusting the given CA", async () => {
    const mailer = createSmtpMailer({
      host: "127.0.0.1",
      port: secured.port,
      user: USER,
      password: PASSWORD,
      from: FROM,
      tls: { ca: cert.cert },
      timeoutMs: 5_000,
    });
    await mailer.send({ to: "oncall@team.example", subject: "over tls", text: "t" });
    const delivery = secured.deliveries.at(-1);
    expect(delivery).toMatchObject({ user: USER, secure: true, to: ["oncall@team.example"] });
  });

  it("maps a wrong password to auth_failed without ever showing the password", async () => {
    const wrong = `${PASSWORD}x`;
    const mailer = createSmtpMailer({
      host: "127.0.0.1",
      port: secured.port,
      user: USER,
      password: wrong,
      from: FROM,
      tls: { ca: cert.cert },
      timeoutMs: 5_000,
    });
    const error = await mailError(mailer.send({ to: "oncall@team.example", subject: "s", text: "t" }));
    expect(error.code).toBe("auth_failed");
    expect(error.message).toContain("535");
    expect(error.message).toContain("[redacted]"); // the server echoed it; we scrubbed it
    for (const text of [error.message, String(error.stack), JSON.stringify(error)]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(Buffer.from(wrong).toString("base64"));
      expect(text).not.toContain(Buffer.from(`\0${USER}\0${wrong}`).toString("base64"));
    }
  });

  it("maps an untrusted certificate to tls_failed before any login", async () => {
    const logins = secured.logins.length;
    const mailer = createSmtpMailer({
      host: "127.0.0.1",
      port: secured.port,
      user: USER,
      password: PASSWORD,
      from: FROM,
      timeoutMs: 5_000,
    });
    const error = await mailError(mailer.send({ to: "oncall@team.example", subject: "s", text: "t" }));
    expect(error.code).toBe("tls_failed");
    expectNoPassword(error.message);
    expect(secured.logins.length).toBe(logins);
  });

  it("will not send a password over a connection without STARTTLS unless told to", async () => {
    const mailer = createSmtpMailer({
      host: "127.0.0.1",
      port: plain.port,
      user: USER,
      password: PASSWORD,
      from: FROM,
      timeoutMs: 5_000,
    });
    const error = await mailError(mailer.send({ to: "oncall@team.example", subject: "s", text: "t" }));
    expect(error.code).toBe("tls_failed");
    expectNoPassword(error.message);
    expect(plain.logins).toEqual([]);
  });

  it("builds the mailer from SMTP_URL (credentials %-decoded) and MAIL_FROM", async () => {
    const mailer = createMailerFromEnv(
      {
        SMTP_URL: `smtp://${encodeURIComponent(USER)}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${secured.port}`,
        MAIL_FROM: FROM,
      },
      { tls: { ca: cert.cert }, timeoutMs: 5_000 },
    );
    await mailer.send({ to: "env@team.example", subject: "from env", text: "t" });
    expect(secured.logins.at(-1)).toEqual({ username: USER, password: PASSWORD });
    expect(secured.deliveries.at(-1)).toMatchObject({ user: USER, to: ["env@team.example"] });
  });
});

describe("SMTP mailer when the server is not there", () => {
  let silent: Server; // accepts, then never says a word
  const sockets: Socket[] = [];
  let silentPort = 0;
  let closedPort = 0;

  beforeAll(async () => {
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    silentPort = (silent.address() as { port: number }).port;
    // A port that was just free: connecting to it is refused.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    closedPort = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()));
  });

  it("maps a refused connection to unreachable, without the password", async () => {
    const mailer = createSmtpMailer({
      host: "127.0.0.1",
      port: closedPort,
      user: USER,
      password: PASSWORD,
      from: FROM,
      timeoutMs: 2_000,
    });
    const error = await mailError(mailer.send({ to: "oncall@team.example", subject: "s", text: "t" }));
    expect(error.code).toBe("unreachable");
    expect(error.message).toContain(`127.0.0.1:${closedPort}`);
    expectNoPassword(error.message);
  });

  it("gives up on a server that never greets within the timeout", async () => {
    const mailer = createSmtpMailer({
      host: "127.0.0.1",
      port: silentPort,
      user: USER,
      password: PASSWORD,
      from: FROM,
      timeoutMs: 500,
    });
    const started = Date.now();
    const error = await mailError(mailer.send({ to: "oncall@team.example", subject: "s", text: "t" }));
    const elapsed = Date.now() - started;
    expect(error.code).toBe("unreachable");
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(3_000);
    expectNoPassword(error.message);
  });
});

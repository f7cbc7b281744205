import nodemailer, { type SendMailOptions } from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SmtpStandIn, startSmtpStandIn } from "./smtp";

let smtp: SmtpStandIn;

beforeAll(async () => {
  smtp = await startSmtpStandIn();
});

afterAll(async () => {
  await smtp?.close();
});

function send(message: SendMailOptions) {
  const { port } = new URL(smtp.url);
  const transport = nodemailer.createTransport({ host: "127.0.0.1", port: Number(port), secure: false });
  return transport.sendMail(message);
}

describe("SMTP stand-in", () => {
  it("listens on loopback with an smtp: URL", () => {
    expect(smtp.url).toMatch(/^smtp:\/\/127\.0\.0\.1:\d+$/);
  });

  it("keeps each message with its envelope and what a reader sees: headers, text, attachments", async () => {
    const before = smtp.received.length;
    await send({
      from: "Victoria <victoria@example.com>",
      to: "team@example.com",
      subject: "Dead letter ünïcode on local/orders",
      text: `Line one — with a dash\n${"long line ".repeat(20)}\nThe body is attached.`,
      attachments: [
        { filename: "body.json", content: '{"order":42}', contentType: "application/json" },
        { filename: "blob.bin", content: Buffer.alloc(300, 7) },
      ],
    });
    expect(smtp.received).toHaveLength(before + 1);
    const mail = smtp.received[before];
    expect(mail).toMatchObject({
      from: "victoria@example.com",
      to: ["team@example.com"],
      headers: {
        from: "Victoria <victoria@example.com>",
        to: "team@example.com",
        subject: "Dead letter ünïcode on local/orders",
      },
    });
    expect(mail?.text).toBe(`Line one — with a dash\n${"long line ".repeat(20)}\nThe body is attached.`);
    expect(mail?.attachments).toEqual([
      { filename: "body.json", contentType: "application/json", size: 12 },
      { filename: "blob.bin", contentType: "application/octet-stream", size: 300 },
    ]);
    expect(Number.isNaN(Date.parse(mail?.headers.date ?? ""))).toBe(false);
    expect(Number.isNaN(Date.parse(mail?.receivedAt ?? ""))).toBe(false);
    expect(mail?.raw).toContain("body.json");
  });

  it("reads a single-part message too", async () => {
    const before = smtp.received.length;
    await send({
      from: "a@example.com",
      to: ["b@example.com", "c@example.com"],
      subject: "hi",
      text: "plain",
    });
    expect(smtp.received[before]).toMatchObject({
      to: ["b@example.com", "c@example.com"],
      headers: { subject: "hi" },
      text: "plain",
      attachments: [],
    });
  });
});

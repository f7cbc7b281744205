import { describe, expect, it } from "vitest";
import { createMailerFromEnv, parseSmtpUrl } from "./mail-from-env";

const SECRET = "Tr0ub4dor&3";

/** The Error thrown by `fn`; fails the test when nothing is thrown. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("parseSmtpUrl", () => {
  it.each([
    [
      "smtp://user:pass@Mail.Example.com:2525",
      { host: "mail.example.com", port: 2525, secure: false, user: "user", password: "pass" },
    ],
    ["smtp://mail.example.com", { host: "mail.example.com", port: 587, secure: false }],
    ["smtps://mail.example.com", { host: "mail.example.com", port: 465, secure: true }],
    ["smtps://mail.example.com:2465/", { host: "mail.example.com", port: 2465, secure: true }],
    [
      "smtp://ops%40example.com:p%40ss%3Aw%2Frd%25@127.0.0.1:25",
      { host: "127.0.0.1", port: 25, user: "ops@example.com", password: "p@ss:w/rd%" },
    ],
    ["smtp://[::1]:25", { host: "::1", port: 25 }],
    ["smtp://apikey@smtp.example.net", { user: "apikey", password: undefined }],
  ])("reads %s", (text, expected) => {
    expect(parseSmtpUrl(text)).toMatchObject(expected);
  });

  it.each([
    ["no scheme", `//user:${SECRET}@host:587`, "SMTP_URL is not a URL"],
    ["an invalid port", `smtp://user:${SECRET}@host:99999`, "SMTP_URL is not a URL"],
    ["another scheme", `https://user:${SECRET}@host`, "SMTP_URL must use smtp: (STARTTLS) or smtps: (TLS)"],
    ["no host", "smtp:///path", "SMTP_URL names no host"],
    ["a query", `smtp://user:${SECRET}@host:587?requireTLS=false`, "SMTP_URL has something after the host"],
    ["a bad %-escape", `smtp://user:${SECRET}%zz@host`, "SMTP_URL has a malformed password"],
  ])("refuses %s without quoting it", (_why, text, message) => {
    const error = thrown(() => parseSmtpUrl(text));
    expect(error.message).toContain(message);
    expect(error.message).not.toContain(SECRET);
    expect(error.cause).toBeUndefined();
    expect(JSON.stringify(error)).not.toContain(SECRET);
  });
});

describe("createMailerFromEnv", () => {
  it.each([
    [{}, "Email is not configured: set SMTP_URL, MAIL_FROM"],
    [
      { SMTP_URL: `smtp://u:${SECRET}@host`, MAIL_FROM: "  " },
      "Email is half configured: SMTP_URL is set but MAIL_FROM is not; set both, or neither",
    ],
    [
      { MAIL_FROM: "victoria@example.com" },
      "Email is half configured: MAIL_FROM is set but SMTP_URL is not; set both, or neither",
    ],
  ])("names what is missing, never a value", (env, message) => {
    const error = thrown(() => createMailerFromEnv(env));
    expect(error.message).toBe(message);
    expect(error.message).not.toContain(SECRET);
  });

  it("refuses a MAIL_FROM that is not an address", () => {
    const error = thrown(() => createMailerFromEnv({ SMTP_URL: "smtp://host", MAIL_FROM: "Victoria" }));
    expect(error.message).toMatch(/^MAIL_FROM is not an email address/);
  });

  it.each([
    "victoria@example.com",
    "Victoria <victoria@example.com>",
    '"Victoria, the bot" <victoria@example.com>',
  ])("accepts MAIL_FROM %s", (from) => {
    expect(typeof createMailerFromEnv({ SMTP_URL: "smtps://u:p@host", MAIL_FROM: from }).send).toBe(
      "function",
    );
  });
});

import { describe, expect, it } from "vitest";
import { InvalidEmailAddressError, isValidEmailAddress, parseEmailAddress } from "./email-address";

const local64 = "a".repeat(64);
const label63 = "b".repeat(63);
// 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254 characters exactly.
const longest = `${local64}@${label63}.${label63}.${"c".repeat(57)}.com`;

describe("isValidEmailAddress", () => {
  it.each([
    "ops@example.com",
    "first.last@sub.example.co.uk",
    "user+tag@example.io",
    "o'brien@example.ie",
    "x@y.zz",
    "ALL-CAPS@EXAMPLE.COM",
    "a!#$%&'*+/=?^_`{|}~-z@example.com",
    "user@xn--bcher-kva.de",
    "user@bücher.de",
    "user@123.example.com",
    "user@my-host.example",
    `${local64}@example.com`,
    `user@${label63}.com`,
    longest,
  ])("accepts %s", (text) => {
    expect(isValidEmailAddress(text)).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["no @", "ops.example.com"],
    ["two @", "ops@team@example.com"],
    ["empty local part", "@example.com"],
    ["empty domain", "ops@"],
    ["domain without a dot", "ops@localhost"],
    ["leading dot", ".ops@example.com"],
    ["trailing dot in local part", "ops.@example.com"],
    ["double dot in local part", "o..ps@example.com"],
    ["double dot in domain", "ops@example..com"],
    ["trailing dot in domain", "ops@example.com."],
    ["label starting with a hyphen", "ops@-example.com"],
    ["label ending with a hyphen", "ops@example-.com"],
    ["underscore in domain", "ops@ex_ample.com"],
    ["IP literal", "ops@[127.0.0.1]"],
    ["bare IP address", "ops@127.0.0.1"],
    ["space inside", "o ps@example.com"],
    ["leading space", " ops@example.com"],
    ["trailing newline", "ops@example.com\n"],
    ["CRLF header injection", "ops@example.com\r\nBcc: thief@evil.example"],
    ["tab", "ops@exa\tmple.com"],
    ["NUL", "ops\u0000@example.com"],
    ["DEL", "ops\u007f@example.com"],
    ["non-breaking space", "ops\u00a0@example.com"],
    ["comma-separated list", "a@example.com,b@example.com"],
    ["display name", "Ops <ops@example.com>"],
    ["quoted local part", '"ops"@example.com'],
    ["local part of 65", `${"a".repeat(65)}@example.com`],
    ["label of 64", `user@${"b".repeat(64)}.com`],
    ["255 characters", `${longest}m`],
    ["non-ASCII local part", "jürgen@example.de"],
  ])("rejects %s", (_why, text) => {
    expect(isValidEmailAddress(text)).toBe(false);
  });
});

describe("parseEmailAddress", () => {
  it.each([
    ["  Ops@Example.COM \n", "Ops@example.com"],
    ["first.last@Sub.Example.co.uk", "first.last@sub.example.co.uk"],
    ["user@BÜCHER.de", "user@bücher.de"],
  ])("normalises %j to %j", (text, expected) => {
    expect(parseEmailAddress(text)).toBe(expected);
  });

  it("throws a named error that says what was wrong", () => {
    const error = (() => {
      try {
        parseEmailAddress(" not an address ");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidEmailAddressError);
    expect(error).toMatchObject({
      name: "InvalidEmailAddressError",
      message: "'not an address' is not an email address",
      input: " not an address ",
    });
  });

  it("says so when nothing was given", () => {
    expect(() => parseEmailAddress("   ")).toThrow("No email address was given");
  });

  it("echoes the input on one line and cut short", () => {
    expect(() => parseEmailAddress("a@b\r\nBcc: c@d.com")).toThrow(
      "'a@b  Bcc: c@d.com' is not an email address",
    );
    const message = (() => {
      try {
        parseEmailAddress("x".repeat(500));
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(message).toBe(`'${"x".repeat(79)}…' is not an email address`);
  });
});

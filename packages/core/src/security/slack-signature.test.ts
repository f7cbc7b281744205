import { describe, expect, it } from "vitest";
import { checkSlackRequestHeaders, signSlackRequest, verifySlackRequest } from "./slack-signature";

// The worked example from Slack's "Verifying requests from Slack" documentation.
const secret = "8f742231b10e8888abcd99yyyzzz85a5";
const timestamp = "1531420618";
const rawBody =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
const now = Number(timestamp) + 10;

describe("Slack request signature", () => {
  it("accepts Slack's documented example and signs it identically", () => {
    expect(
      verifySlackRequest({ signingSecret: secret, rawBody, timestamp, signature, nowSeconds: now }),
    ).toEqual({
      ok: true,
    });
    expect(signSlackRequest(secret, rawBody, Number(timestamp))["X-Slack-Signature"]).toBe(signature);
  });

  it.each([
    ["missing signature", { signature: undefined }, "missing X-Slack-Request-Timestamp or X-Slack-Signature"],
    ["garbage timestamp", { timestamp: "1531420618abc" }, "X-Slack-Request-Timestamp is not unix seconds"],
    [
      "replayed after 5 minutes",
      { nowSeconds: Number(timestamp) + 301 },
      "request timestamp is outside the 5-minute window",
    ],
    ["wrong secret", { signingSecret: "another" }, "signature does not match"],
    ["changed body", { rawBody: `${rawBody}&text=rm` }, "signature does not match"],
    ["truncated signature", { signature: signature.slice(0, -2) }, "signature does not match"],
  ])("refuses a %s", (_, change, reason) => {
    const input = { signingSecret: secret, rawBody, timestamp, signature, nowSeconds: now, ...change };
    expect(verifySlackRequest(input)).toEqual({ ok: false, reason });
  });
});

describe("Slack request headers (checked before the body is read)", () => {
  it("passes present headers with a fresh timestamp, whatever the signature says", () => {
    expect(checkSlackRequestHeaders({ timestamp, signature: "v0=anything", nowSeconds: now })).toEqual({
      ok: true,
    });
  });

  it.each([
    ["no signature", { signature: undefined }, "missing X-Slack-Request-Timestamp or X-Slack-Signature"],
    ["no timestamp", { timestamp: undefined }, "missing X-Slack-Request-Timestamp or X-Slack-Signature"],
    ["garbage timestamp", { timestamp: "soon" }, "X-Slack-Request-Timestamp is not unix seconds"],
    [
      "stale timestamp",
      { nowSeconds: Number(timestamp) + 301 },
      "request timestamp is outside the 5-minute window",
    ],
  ])("refuses %s, as the full check does", (_, change, reason) => {
    const input = { timestamp, signature, nowSeconds: now, ...change };
    expect(checkSlackRequestHeaders(input)).toEqual({ ok: false, reason });
    expect(verifySlackRequest({ signingSecret: secret, rawBody, ...input })).toEqual({ ok: false, reason });
  });
});

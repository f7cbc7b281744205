import { describe, expect, it } from "vitest";
import { checkServiceRequestHeaders, signServiceRequest, verifyServiceRequest } from "./service-signature";

const body = '{"args":["config","view"]}';
const now = 1_700_000_000;

describe("service-to-service signature", () => {
  it("matches an independently computed vector (openssl dgst -sha256 -hmac)", () => {
    expect(signServiceRequest("test-secret", body, now)).toEqual({
      "X-Victoria-Timestamp": "1700000000",
      "X-Victoria-Signature": "v1=9966d65df228bb529d18bde939ea859eb5153a4478737cadff5f280f99ec8044",
    });
  });

  it("accepts its own signature inside the five-minute window, either side", () => {
    for (const skew of [-300, 0, 300]) {
      const headers = signServiceRequest("s", body, now);
      const check = verifyServiceRequest({
        secret: "s",
        body,
        timestamp: headers["X-Victoria-Timestamp"],
        signature: headers["X-Victoria-Signature"],
        nowSeconds: now + skew,
      });
      expect(check).toEqual({ ok: true });
    }
  });

  it.each([
    ["missing headers", { timestamp: undefined }, "missing X-Victoria-Timestamp or X-Victoria-Signature"],
    ["non-numeric timestamp", { timestamp: "soon" }, "X-Victoria-Timestamp is not unix seconds"],
    ["stale", { nowSeconds: now + 301 }, "request timestamp is outside the 5-minute window"],
    ["wrong secret", { secret: "other" }, "signature does not match"],
    ["tampered body", { body: '{"args":["config","path"]}' }, "signature does not match"],
    [
      "v0 prefix",
      { signature: "v0=9966d65df228bb529d18bde939ea859eb5153a4478737cadff5f280f99ec8044" },
      "signature does not match",
    ],
  ])("refuses %s", (_, change, reason) => {
    const headers = signServiceRequest("s", body, now);
    const input = {
      secret: "s",
      body,
      timestamp: headers["X-Victoria-Timestamp"],
      signature: headers["X-Victoria-Signature"],
      nowSeconds: now,
      ...change,
    };
    if (input.signature?.startsWith("v0=")) input.secret = "test-secret";
    expect(verifyServiceRequest(input)).toEqual({ ok: false, reason });
  });
});

describe("service signature headers (checked before the body is read)", () => {
  const headers = signServiceRequest("s", body, now);
  const timestamp = headers["X-Victoria-Timestamp"];
  const signature = headers["X-Victoria-Signature"];

  it("passes present headers with a fresh timestamp, whatever the signature says", () => {
    expect(checkServiceRequestHeaders({ timestamp, signature: "v1=forged", nowSeconds: now })).toEqual({
      ok: true,
    });
  });

  it.each([
    ["no signature", { signature: undefined }, "missing X-Victoria-Timestamp or X-Victoria-Signature"],
    ["a stale timestamp", { nowSeconds: now - 301 }, "request timestamp is outside the 5-minute window"],
  ])("refuses %s, as the full check does", (_, change, reason) => {
    const input = { timestamp, signature, nowSeconds: now, ...change };
    expect(checkServiceRequestHeaders(input)).toEqual({ ok: false, reason });
    expect(verifyServiceRequest({ secret: "s", body, ...input })).toEqual({ ok: false, reason });
  });
});

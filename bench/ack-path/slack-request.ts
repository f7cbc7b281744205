/**
 * The one request every contender is measured on: a Slack slash command, signed exactly as Slack
 * signs it (v0 HMAC-SHA256 over `v0:<timestamp>:<body>`). Written here with node:crypto rather than
 * with our own signer, so a bug shared by our signer and our verifier cannot pass unnoticed: Bolt
 * verifies the same bytes.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
export const COMMAND = "/victoria";
export const COMMAND_TEXT = "config view";

/** Everything but `trigger_id`, which is unique per request: our route dedupes on it. */
const FORM_PREFIX = new URLSearchParams({
  token: "gIkuvaNzQIHg97ATvDxqgjtO",
  team_id: "T0BENCH",
  team_domain: "bench",
  channel_id: "C0BENCH",
  channel_name: "sre",
  user_id: "U0MEMBER",
  user_name: "member",
  command: COMMAND,
  text: COMMAND_TEXT,
  api_app_id: "A0BENCH",
  is_enterprise_install: "false",
  response_url: "https://hooks.slack.com/commands/T0BENCH/1/bench",
}).toString();

export function slashCommandBody(triggerId: string): string {
  return `${FORM_PREFIX}&trigger_id=${encodeURIComponent(triggerId)}`;
}

export function slackSignature(secret: string, timestamp: string, body: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

/** Headers of a signed form POST, stamped with the current time (Slack's window is 5 minutes). */
export function signedHeaders(body: string): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    "content-type": "application/x-www-form-urlencoded",
    "x-slack-request-timestamp": timestamp,
    "x-slack-signature": slackSignature(SIGNING_SECRET, timestamp, body),
  };
}

/** The reference contenders' check: timestamp window, then a constant-time HMAC comparison. */
export function isSignedBySlack(
  body: string,
  timestamp: string | undefined,
  signature: string | undefined,
): boolean {
  if (!timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(slackSignature(SIGNING_SECRET, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

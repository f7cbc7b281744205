import { readFileSync } from "node:fs";
import type { AuditRecord } from "@victoria/core/security/audit-log";
import { signSlackRequest } from "@victoria/core/security/slack-signature";
import type { SlackStandIn } from "@victoria/emulators/slack";
import { expect } from "vitest";
import { eventually } from "./eventually";

// What the end-to-end tests of the local server share: Slack's signed form posts, what a clicker
// is told privately, and the JSON Lines audit log as written so far.

/** A `fetch` init for a form body signed as Slack signs it. */
export function signedForm(signingSecret: string, body: string): RequestInit {
  return {
    method: "POST",
    body,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...signSlackRequest(signingSecret, body),
    },
  };
}

/** What the clicker alone is told (ephemeral, not replacing the message clicked). */
export async function toldPrivately(h: { slack: SlackStandIn }, responseUrl: string): Promise<string> {
  const told = await eventually(() => h.slack.responses(responseUrl)[0]);
  expect(told.body).toMatchObject({ response_type: "ephemeral", replace_original: false });
  return String(told.body.text);
}

/** The audit records written so far (none before the file exists). */
export function auditRecords(h: { auditFile: string }): AuditRecord[] {
  let text: string;
  try {
    text = readFileSync(h.auditFile, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as AuditRecord);
}

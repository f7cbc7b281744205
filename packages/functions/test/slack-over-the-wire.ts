import { readFileSync } from "node:fs";
import type { AuditRecord } from "@victoria/core/security/audit-log";
import { signSlackRequest } from "@victoria/core/security/slack-signature";
import type { SlackStandIn } from "@victoria/emulators/slack";
import { expect } from "vitest";
import { eventually } from "./eventually";

// What the end-to-end tests of the local server share: Slack's signed posts (slash commands,
// Events API deliveries, clicks and dialog submissions), what a clicker is told privately, and the
// JSON Lines audit log as written so far.

/** A spawned server as Slack reaches it: its URL, the signing secret it checks, the Slack stand-in it talks to. */
export interface SlackWire {
  server: { url: string };
  slack: SlackStandIn;
  signingSecret: string;
}

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

/** A `fetch` init for a JSON body (an Events API delivery) signed as Slack signs it. */
export function signedJson(signingSecret: string, body: string): RequestInit {
  return {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...signSlackRequest(signingSecret, body) },
  };
}

/**
 * A `/victoria` slash command sent to /authenticate as Slack sends it, acknowledged with 200; the
 * acknowledgement and the response_url the answer goes to.
 */
export async function sendSlash(
  h: SlackWire,
  { user, channel, text }: { user: string; channel: string; text: string },
): Promise<{ ack: Response; responseUrl: string }> {
  const responseUrl = h.slack.responseUrl();
  const body = new URLSearchParams({
    team_id: "T0E2E",
    channel_id: channel,
    user_id: user,
    command: "/victoria",
    text,
    response_url: responseUrl,
    // Unique: Slack's trigger id is what a retried slash command is recognised by.
    trigger_id: `t-${user}-${Math.random()}`,
  }).toString();
  const ack = await fetch(`${h.server.url}/authenticate`, signedForm(h.signingSecret, body));
  expect(ack.status).toBe(200);
  return { ack, responseUrl };
}

/** An interaction (a click, a dialog's submission) sent to /resolve as Slack sends it, acknowledged with 200. */
export async function sendInteraction(h: SlackWire, payload: Record<string, unknown>): Promise<Response> {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const res = await fetch(`${h.server.url}/resolve`, signedForm(h.signingSecret, body));
  expect(res.status).toBe(200);
  return res;
}

export interface ButtonClick {
  user: string;
  /** The channel of the message clicked, and the message's ts. */
  channel: string;
  ts: string;
  actionId: string;
  value: string;
  responseUrl: string;
}

/** Slack's `block_actions` payload for a click on a button of a message in a channel. */
export function buttonClickPayload({ user, channel, ts, actionId, value, responseUrl }: ButtonClick) {
  return {
    type: "block_actions",
    user: { id: user },
    team: { id: "T0E2E" },
    channel: { id: channel },
    container: { type: "message", channel_id: channel, message_ts: ts },
    message: { ts },
    response_url: responseUrl,
    trigger_id: `trigger-${Math.random()}`,
    actions: [
      { action_id: actionId, block_id: "any", value, type: "button", action_ts: String(Date.now() / 1000) },
    ],
  };
}

/** Clicks a button of a message (to a fresh response_url unless given); answers the response_url. */
export async function clickButton(
  h: SlackWire,
  click: Omit<ButtonClick, "responseUrl"> & { responseUrl?: string },
): Promise<string> {
  const responseUrl = click.responseUrl ?? h.slack.responseUrl();
  await sendInteraction(h, buttonClickPayload({ ...click, responseUrl }));
  return responseUrl;
}

/** Slack's `view_submission` payload: `user` submits the dialog `view` (as it was opened) with these input values. */
export function viewSubmission(
  user: string,
  view: Record<string, unknown>,
  values: Record<string, Record<string, { type?: string; value: string }>>,
) {
  return {
    type: "view_submission",
    user: { id: user },
    team: { id: "T0E2E" },
    view: {
      callback_id: String(view.callback_id),
      private_metadata: String(view.private_metadata),
      state: { values },
    },
  };
}

/** The first answer posted to `responseUrl`. */
export function firstResponse(h: { slack: SlackStandIn }, responseUrl: string) {
  return eventually(() => h.slack.responses(responseUrl)[0]);
}

/** What the clicker alone is told (ephemeral, not replacing the message clicked). */
export async function toldPrivately(h: { slack: SlackStandIn }, responseUrl: string): Promise<string> {
  const told = await firstResponse(h, responseUrl);
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

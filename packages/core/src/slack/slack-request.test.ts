import { describe, expect, it } from "vitest";
import { PUBLISH_APP_HOME_JOB } from "../app-home/publish-app-home";
import { SLACK_COMMAND_JOB } from "./slack-command-job";
import { parseSlackRequest } from "./slack-request";

const FORM = "application/x-www-form-urlencoded";
const JSON_TYPE = "application/json; charset=utf-8";
const OPTIONS = { requestId: "req-1", botUserId: "U0BOT" };

function slashCommand(fields: Record<string, string> = {}) {
  return new URLSearchParams({
    command: "/victoria",
    text: "config view",
    user_id: "U0MEMBER",
    channel_id: "C0OPS",
    response_url: "https://hooks.slack.test/commands/1",
    trigger_id: "trigger-1",
    ...fields,
  }).toString();
}

function eventCallback(event: Record<string, unknown>) {
  return JSON.stringify({
    type: "event_callback",
    team_id: "T0TEAM",
    event_id: "Ev1",
    event: { channel: "C0OPS", ts: "1700000000.000100", user: "U0MEMBER", ...event },
  });
}

describe("parseSlackRequest", () => {
  // The keys are remembered across deploys (the S3 dedupe store): a retry straddling a deploy
  // must still find its claim, so their shape is part of the contract.
  it("keys a slash command by its trigger_id and an event by its event_id", () => {
    expect(parseSlackRequest(FORM, slashCommand(), OPTIONS)).toMatchObject({
      kind: "job",
      dedupeKey: "slash:trigger-1",
      job: { kind: SLACK_COMMAND_JOB, payload: { requestId: "req-1", source: "slash_command" } },
    });
    expect(
      parseSlackRequest(
        JSON_TYPE,
        eventCallback({ type: "app_mention", text: "<@U0BOT> config view" }),
        OPTIONS,
      ),
    ).toMatchObject({
      kind: "job",
      dedupeKey: "event:Ev1",
      job: { kind: SLACK_COMMAND_JOB, payload: { source: "app_mention", text: "config view" } },
      ack: { kind: "ack" },
      failed: { kind: "error", status: 503 },
    });
  });

  it("hands off the Home tab on app_home_opened, but not the Messages tab", () => {
    const home = parseSlackRequest(
      JSON_TYPE,
      eventCallback({ type: "app_home_opened", tab: "home" }),
      OPTIONS,
    );
    expect(home).toMatchObject({
      kind: "job",
      job: { kind: PUBLISH_APP_HOME_JOB, payload: { requestId: "req-1", userId: "U0MEMBER" } },
      log: { message: "app home requested" },
    });
    expect(
      parseSlackRequest(JSON_TYPE, eventCallback({ type: "app_home_opened", tab: "messages" }), OPTIONS),
    ).toEqual({ kind: "ack" });
  });

  it.each([
    ["an event that is neither a command nor the Home tab", { type: "reaction_added", reaction: "eyes" }],
    [
      "a DM from our bot, known only by SLACK_BOT_USER_ID",
      { type: "message", channel_type: "im", user: "U0BOT", text: "hi" },
    ],
    ["a mention without text", { type: "app_mention" }],
  ])("acknowledges %s with no job", (_, event) => {
    expect(parseSlackRequest(JSON_TYPE, eventCallback(event), OPTIONS)).toEqual({ kind: "ack" });
  });

  it("acknowledges another callback type, so Slack stops sending it, and says so in the log", () => {
    expect(parseSlackRequest(JSON_TYPE, JSON.stringify({ type: "app_rate_limited" }), OPTIONS)).toEqual({
      kind: "ack",
      log: { message: "slack callback ignored", fields: { type: "app_rate_limited" } },
    });
  });

  it("answers an unreadable slash command with its refusal only, and no job", () => {
    const request = parseSlackRequest(FORM, slashCommand({ text: 'config "view' }), OPTIONS);
    expect(request).toMatchObject({
      kind: "json",
      body: { response_type: "ephemeral" },
      log: { message: "slack command unreadable" },
    });
  });

  it("answers ssl_check with an empty 200 and no job", () => {
    expect(parseSlackRequest(FORM, "ssl_check=1&token=x", OPTIONS)).toEqual({ kind: "ack" });
  });
});

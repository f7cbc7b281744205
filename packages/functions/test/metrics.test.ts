import { type EmfReading, readEmfLines, sumOf, valuesOf } from "@victoria/core/observability/emf-reader";
import type { SlackMessage } from "@victoria/emulators/slack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadLetterAndAlert } from "./dead-letters-over-the-wire";
import { eventually } from "./eventually";
import { clickButton, sendSlash } from "./slack-over-the-wire";
import { spawnWiredServer, stopWiredServer, WIRED, type WiredServer } from "./spawn-local-server";

/**
 * Issue 18's metrics over the wire: `npm start`'s process with a Slack and a Service Bus stand-in,
 * driven as Slack and Azure drive it; what it writes to stdout is read back as CloudWatch would
 * extract it (every EMF line checked against the format), with `Service` = `local`.
 */

const { queue: QUEUE, alerts: ALERTS } = WIRED;
const MEMBER = { id: "U0MEMBER", email: "sre@example.com" };
const OUTSIDER = { id: "U0OUTSIDER", email: "eve@example.com" };

let h: WiredServer;

beforeAll(async () => {
  h = await spawnWiredServer("metrics", { users: [MEMBER, OUTSIDER], sreMember: MEMBER.email });
}, 60_000);

afterAll(() => stopWiredServer(h));

/** Every metric the server has written so far (whole lines: chunks may split one). */
const readings = (): EmfReading[] => readEmfLines([h.server.logs.join("")]);

/** Waits until the metrics satisfy `done`, then answers them. */
const metricsUntil = (done: (r: EmfReading[]) => boolean) =>
  eventually(() => {
    const r = readings();
    return done(r) ? r : undefined;
  }, 15_000);

async function slash(user: string, text: string): Promise<string> {
  const { responseUrl } = await sendSlash(h, { user, channel: ALERTS, text });
  // The answer, not the "Running …" acknowledgement.
  await eventually(() =>
    h.slack.responses(responseUrl).find((r) => !String(r.body.text).startsWith("Running")),
  );
  return responseUrl;
}

function buttons(message: SlackMessage) {
  return (message.blocks ?? [])
    .filter((b) => b.type === "actions")
    .flatMap((b) => b.elements as { action_id: string; value: string }[]);
}

async function click(message: SlackMessage, actionId: string, value: string) {
  await clickButton(h, { user: MEMBER.id, channel: ALERTS, ts: message.ts, actionId, value });
}

describe("metrics of the local server (EMF on stdout)", () => {
  it("a slash command: AckLatency at the front door, CommandsRun by plugin and EndToEndLatency once answered", async () => {
    await slash(MEMBER.id, "config path");
    const r = await metricsUntil((m) => valuesOf(m, "EndToEndLatency").length >= 1);
    expect(sumOf(r, "CommandsRun", { Service: "local", Plugin: "config" })).toBe(1);
    expect(sumOf(r, "CommandsFailed")).toBe(0);
    const [run] = r.filter((m) => m.name === "CommandsRun");
    // Published as the Service total (what an alarm watches) and by plugin.
    expect(run?.dimensionSets).toEqual([["Service"], ["Service", "Plugin"]]);
    expect(run?.namespace).toBe("ServerlessVictoria");
    const ack = valuesOf(r, "AckLatency", { Service: "local" });
    const endToEnd = valuesOf(r, "EndToEndLatency", { Service: "local" });
    expect(ack.length).toBeGreaterThanOrEqual(1);
    // The answer comes after the acknowledgement.
    expect(endToEnd[0]).toBeGreaterThanOrEqual(Math.min(...ack));
  });

  it("a refused command and a failed one, each counted once (the worker's call to /execute counts nothing)", async () => {
    await slash(OUTSIDER.id, "deadletter ls");
    await slash(MEMBER.id, "deadletter show no-such-record");
    const r = await metricsUntil((m) => sumOf(m, "CommandsFailed") >= 1 && sumOf(m, "CommandsRefused") >= 1);
    expect(sumOf(r, "CommandsRefused", { Plugin: "deadletter" })).toBe(1);
    expect(sumOf(r, "CommandsFailed", { Plugin: "deadletter" })).toBe(1);
    expect(sumOf(r, "CommandsRun", { Plugin: "deadletter" })).toBe(1);
    expect(sumOf(r, "CommandsRun")).toBe(2);
  });

  it("a drain counts what it parked and notified, and how long it took by stop reason; clicks count replays and deletes", async () => {
    await deadLetterAndAlert(h, QUEUE, "m", 2);
    const r = await metricsUntil((m) => valuesOf(m, "DrainDuration").length >= 1);
    expect(sumOf(r, "DeadLettersParked")).toBe(2);
    expect(sumOf(r, "DeadLettersNotified")).toBe(2);
    expect(sumOf(r, "DrainErrors")).toBe(0);
    const [duration] = r.filter((m) => m.name === "DrainDuration");
    expect(duration?.dimensionSets).toEqual([["Service"], ["Service", "StopReason"]]);
    expect(["empty", "budget", "max-messages"]).toContain(duration?.dimensions.StopReason);

    const notification = await eventually(() =>
      h.slack.messages(ALERTS).find((m) => (m.text ?? "").startsWith(":rotating_light:")),
    );
    const [replay] = buttons(notification).filter((b) => b.action_id === "deadletter_replay");
    const [, remove] = buttons(notification).filter((b) => b.action_id === "deadletter_delete");
    expect(replay && remove).toBeTruthy();
    const acksBefore = valuesOf(readings(), "AckLatency").length;
    await click(notification, "deadletter_replay", replay?.value as string);
    await click(notification, "deadletter_delete", remove?.value as string);
    const after = await metricsUntil(
      (m) => sumOf(m, "DeadLettersReplayed") >= 1 && sumOf(m, "DeadLettersDeleted") >= 1,
    );
    expect(sumOf(after, "DeadLettersReplayed")).toBe(1);
    expect(sumOf(after, "DeadLettersDeleted")).toBe(1);
    // /resolve acknowledges each click (AckLatency); the buttons are `deadletter` commands that ran.
    expect(valuesOf(after, "AckLatency").length).toBeGreaterThanOrEqual(acksBefore + 2);
    await metricsUntil((m) => sumOf(m, "CommandsRun", { Plugin: "deadletter" }) >= 3);
  });
});

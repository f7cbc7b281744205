import { type EmfReading, readEmfLines, sumOf, valuesOf } from "@victoria/core/observability/emf-reader";
import { LOCAL_NAMESPACE } from "@victoria/functions/local-server";
import { sampleAlert } from "@victoria/functions/workbench/sample-alerts";
import { describe, expect, it } from "vitest";
import { sendSlash, TEST_SECRET, useTestTwin } from "./twin-fixture";

/*
 * Issue 18's metrics through the deployment: each function's bundle in its own process, its stdout
 * (where Lambda's log agent extracts EMF) read back as CloudWatch would, `Service` = the function.
 * The alarms in infra/alarms.ts watch these names with the Service dimension alone.
 */

const ALERTS = "C0ALERTS";
const MEMBER = "U0MEMBER";
// Reminders after a second, so a tick of the reminder schedule finds the parked dead letter due.
const SECRET = { ...TEST_SECRET, DEAD_LETTER_REMIND_AFTER: "1s" };

const t = useTestTwin({ secret: SECRET });

/** The metrics one function (component id: `Worker`, …) has written so far. */
const metricsOf = (id: string): EmfReading[] => readEmfLines(t.logs.filter((l) => l.startsWith(`[${id}] `)));

/** Waits until `id`'s metrics satisfy `done`. */
const metricsUntil = (id: string, done: (r: EmfReading[]) => boolean) =>
  t.eventually(() => {
    const r = metricsOf(id);
    return done(r) ? r : undefined;
  });

describe("metrics through the twin's Lambda entries", () => {
  it("a slash command: AckLatency and the secret fetch from authenticate, CommandsRun and EndToEndLatency from the worker", async () => {
    const { res } = await sendSlash(t.twin, { user: MEMBER, text: "config path" });
    expect(res.status).toBe(200);
    // Flushed before the invocation returned (its stdout reaches the twin's log a little after the answer).
    const front = await metricsUntil("Authenticate", (r) => valuesOf(r, "AckLatency").length > 0);
    expect(valuesOf(front, "AckLatency", { Service: "authenticate" })).toHaveLength(1);
    // A cold container read the configuration secret once.
    expect(sumOf(front, "SecretCacheMisses", { Service: "authenticate" })).toBe(1);
    const worker = await metricsUntil("Worker", (r) => valuesOf(r, "EndToEndLatency").length > 0);
    expect(sumOf(worker, "CommandsRun", { Service: "worker", Plugin: "config" })).toBe(1);
    expect(valuesOf(worker, "EndToEndLatency", { Service: "worker" })[0]).toBeGreaterThan(0);
    // The command ran on execute, but was counted once, by the worker that audited it.
    expect(sumOf(metricsOf("Execute"), "CommandsRun")).toBe(0);
  }, 60_000);

  it("a drain from the worker: parked, notified, its duration by stop reason; the reminder tick samples the oldest parked age", async () => {
    const broker = t.twin.serviceBus;
    if (!broker) throw new Error("the embedded Service Bus stand-in is not running");
    broker.deadLetter(
      "orders",
      { messageId: "metrics-1", body: { n: 1 } },
      { reason: "Boom", description: "x" },
    );
    const alert = sampleAlert("azure-monitor", {
      namespace: LOCAL_NAMESPACE,
      queue: "orders",
      count: 1,
      now: new Date(),
    });
    const res = await fetch(`${t.twin.outputs.listenerUrl}?token=${SECRET.LISTENER_TOKEN}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(alert),
    });
    expect(res.status).toBe(202);
    const drained = await metricsUntil("Worker", (r) => valuesOf(r, "DrainDuration").length > 0);
    expect(sumOf(drained, "DeadLettersParked", { Service: "worker" })).toBe(1);
    expect(sumOf(drained, "DeadLettersNotified", { Service: "worker" })).toBe(1);
    expect(sumOf(drained, "DrainErrors")).toBe(0);
    expect(drained.find((m) => m.name === "DrainDuration")?.dimensions.StopReason).toBe("empty");
    await t.eventually(() =>
      t.twin.slack?.messages(ALERTS).find((m) => (m.text ?? "").startsWith(":rotating_light:")),
    );

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await t.twin.tick("DeadLetterReminderSchedule");
    const sampled = await metricsUntil("Worker", (r) => valuesOf(r, "OldestParkedAge").length > 0);
    const [age] = sampled.filter((m) => m.name === "OldestParkedAge");
    // Seconds, Service-only: what the OldestParkedDeadLetter alarm reads.
    expect(age).toMatchObject({
      unit: "Seconds",
      dimensionSets: [["Service"]],
      dimensions: { Service: "worker" },
    });
    expect(age?.values[0]).toBeGreaterThanOrEqual(1);
  }, 60_000);
});

/**
 * The floor for the drain bench: what the Service Bus SDK alone takes to empty a dead-letter
 * subqueue — receive in batches and complete, nothing else (no vault, no Slack). Run as its own
 * pinned process by run.ts, on the same broker and the same messages as the drain; prints one JSON
 * line: { wallMs, received, peakRssMiB }.
 *
 *   tsx bench/drain/sdk-floor.ts <connection string> <queue> <count>
 */
import { ServiceBusClient } from "@azure/service-bus";

const [connection, queue, countText] = process.argv.slice(2);
if (!connection || !queue || !countText) throw new Error("usage: sdk-floor <connection> <queue> <count>");
const count = Number(countText);

// The drain's own batch size and settle concurrency (drain-dead-letters.ts), so the floor does the
// same bus work with the same shape.
const BATCH = 50;
const SETTLE_CONCURRENCY = 16;

const started = performance.now();
const client = new ServiceBusClient(connection);
const receiver = client.createReceiver(queue, { subQueueType: "deadLetter", receiveMode: "peekLock" });
let received = 0;
try {
  while (received < count) {
    const batch = await receiver.receiveMessages(BATCH, { maxWaitTimeInMs: 1_000 });
    if (batch.length === 0) break;
    received += batch.length;
    for (let i = 0; i < batch.length; i += SETTLE_CONCURRENCY) {
      await Promise.all(batch.slice(i, i + SETTLE_CONCURRENCY).map((m) => receiver.completeMessage(m)));
    }
  }
} finally {
  await receiver.close();
  await client.close();
}
const wallMs = performance.now() - started;
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ wallMs, received, peakRssMiB })}\n`);

import { randomUUID } from "node:crypto";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { S3StandIn } from "@victoria/emulators/s3";
import { startS3TestClient } from "@victoria/emulators/s3-test-client";
import { type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createS3Vault } from "../adapters/aws/s3-vault";
import { createWebApiChat } from "../adapters/slack/web-api-chat";
import { createMemoryLogger } from "../logging/json-logger";
import { remindParkedDeadLetters } from "./dead-letter-reminders";
import type { Vault } from "./vault";
import { sampleRecord } from "./vault-contract";
import { COMPACT_AFTER } from "./vault-index";

// What the reminder sweep reads, counted as GETs of record objects on the S3 stand-in: records
// already reminded must cost nothing (the sweep runs every 15 minutes over every old parked one).

const TOKEN = "xoxb-remind-reads";
const CHANNEL = "C0ALERTS";
const HOUR = 3_600_000;
const NOW = new Date("2026-12-06T12:00:00.000Z");
const bucket = "victoria-remind";
/** More than the index tolerates as change markers, so the reminders' claims get compacted. */
const MANY = COMPACT_AFTER + 150;

let slack: SlackStandIn;
let s3: S3StandIn;
let client: S3Client;
let closeS3: () => Promise<void>;
let prefix: string;
let vault: Vault;

beforeAll(async () => {
  slack = await startSlackStandIn({ botToken: TOKEN, channels: [CHANNEL] });
  ({ s3, client, close: closeS3 } = await startS3TestClient({ buckets: [bucket] }));
});
afterAll(async () => {
  await slack.close();
  await closeS3();
});
beforeEach(() => {
  slack.reset();
  prefix = `remind-${randomUUID()}/`;
  vault = createS3Vault({ client, bucket, prefix });
});

const chat = () => createWebApiChat({ token: TOKEN, slackApiUrl: slack.url, retryConfig: { retries: 0 } });
const remind = () =>
  remindParkedDeadLetters({
    vault,
    chat: chat(),
    logger: createMemoryLogger(),
    remindAfterMs: 24 * HOUR,
    now: () => NOW,
  });
const replies = () => slack.messages().filter((m) => m.threadTs !== undefined);

/** Record objects read (GET) while `task` runs, by key. */
async function recordReads(task: () => Promise<unknown>): Promise<string[]> {
  const before = s3.requests.length;
  await task();
  return s3.requests
    .slice(before)
    .filter((r) => r.method === "GET" && r.path.includes(`/${prefix}records/`))
    .map((r) => r.path.split("?")[0] as string);
}

let n = 0;
async function parkNotified(notification: { channel: string; ts: string; id: string; at: string }) {
  n += 1;
  const id = n.toString(16).padStart(8, "0");
  await vault.park(
    sampleRecord(n, { id, parkedAt: new Date(NOW.getTime() - (30 + (n % 40)) * HOUR).toISOString() }),
  );
  await vault.markNotified(id, notification);
  return id;
}

/** Many old parked records over a few notifications, all reminded once, the claims compacted. */
async function remindedBacklog() {
  const notifications = [];
  for (let i = 0; i < 3; i++) {
    const posted = await chat().postMessage({ channel: CHANNEL, text: "dead letters" });
    notifications.push({ channel: CHANNEL, ts: posted.ts, id: `n-${posted.ts}`, at: NOW.toISOString() });
  }
  for (let i = 0; i < MANY; i++) await parkNotified(notifications[i % 3] as (typeof notifications)[0]);
  expect(await remind()).toEqual({ reminded: MANY, posted: 3, failed: 0 });
  // Any search folds the reminders' change markers into the index (the next sweep would).
  await vault.search({}, { limit: 1 });
  return notifications;
}

describe("the reminder sweep's reads", () => {
  it("reads no record of a backlog already reminded, and only the new one when one comes due", async () => {
    const notifications = await remindedBacklog();
    expect(await recordReads(remind)).toEqual([]);
    expect(replies()).toHaveLength(3);

    const late = await parkNotified(notifications[0] as (typeof notifications)[0]);
    const reads = await recordReads(async () =>
      expect(await remind()).toEqual({ reminded: 1, posted: 1, failed: 0 }),
    );
    // Its change marker names it, and its claim reads it: nothing else.
    expect(new Set(reads)).toEqual(new Set([`/${bucket}/${prefix}records/${late}.json`]));
    expect(replies().at(-1)?.text).toContain(`\`${late}\``);
  });

  it("upgrades an index written by the previous version (no remindedAt in its summaries) once, reminding no one twice", async () => {
    await remindedBacklog();
    // What the previous version left: a format 1 manifest over summaries without `remindedAt`.
    const folder = `${prefix}index/`;
    const text = async (key: string) =>
      (await (
        await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      ).Body?.transformToString()) ?? "";
    const put = (key: string, body: string) =>
      client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const manifest = JSON.parse(await text(`${folder}manifest.json`)) as { segments: { name: string }[] };
    for (const { name } of manifest.segments) {
      const segment = JSON.parse(await text(`${folder}${name}`)) as { entries: { remindedAt?: string }[] };
      for (const entry of segment.entries) delete entry.remindedAt;
      await put(`${folder}${name}`, JSON.stringify({ ...segment, format: 1 }));
    }
    await put(`${folder}manifest.json`, JSON.stringify({ ...manifest, format: 1 }));
    vault = createS3Vault({ client, bucket, prefix }); // a fresh process: nothing cached

    // The one rebuild reads every record; the records themselves say they were reminded.
    expect((await recordReads(remind)).length).toBe(MANY);
    expect(replies()).toHaveLength(3);
    expect(JSON.parse(await text(`${folder}manifest.json`)).format).toBe(2);
    for (const { name } of manifest.segments) expect(s3.keys(bucket)).not.toContain(`${folder}${name}`);
    expect(await recordReads(remind)).toEqual([]);
    expect(replies()).toHaveLength(3);
  });
});

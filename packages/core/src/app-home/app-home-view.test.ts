import { describe, expect, it } from "vitest";
import type { VaultRecord } from "../deadletter/vault";
import { sampleRecord } from "../deadletter/vault-contract";
import { buildHomeView, buildRefusedHomeView, ENTITIES_LISTED } from "./app-home-view";
import { tallyParked } from "./parked-tally";

const NOW = new Date("2026-01-10T12:00:00.000Z");
const HELP = [{ name: "config", summary: "Print the loaded config <and> more." }];

function parked(n: number, overrides: Parameters<typeof sampleRecord>[1] = {}): VaultRecord {
  return { ...sampleRecord(n, overrides), state: "parked", version: 1 };
}

const texts = (blocks: Record<string, unknown>[]) =>
  blocks.map((b) => (b.text as { text?: string } | undefined)?.text ?? "");

describe("buildHomeView", () => {
  it("stays within a Home tab's limits for thousands of entities with long names, summarising the rest", () => {
    const summaries = Array.from({ length: 10_000 }, (_, i) => ({
      id: `id${i}`,
      state: "parked" as const,
      cluster: "prod",
      entity: { kind: "queue" as const, queue: `q${i % 2_000}-${"<&>".repeat(100)}` },
      parkedAt: new Date(NOW.getTime() - i * 1000).toISOString(),
    }));
    const newest = Array.from({ length: 8 }, (_, i) =>
      parked(i, { message: { ...sampleRecord(i).message, deadLetterReason: "r".repeat(5000) } }),
    );
    const view = buildHomeView({
      tally: tallyParked(summaries, NOW),
      newest,
      recent: [],
      help: HELP,
      command: "/victoria",
      now: NOW,
    });
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    for (const text of texts(view.blocks)) expect(text.length).toBeLessThanOrEqual(3000);
    const all = texts(view.blocks).join("\n");
    expect(all).toContain("10,000 dead letters parked* in 2,000 entities");
    expect(all).toMatch(/…and 1,9\d\d more entities/);
    // Entity names are outside text: escaped, never markup.
    expect(all).not.toMatch(/<&>/);
    expect(all).toContain("Print the loaded config &lt;and&gt; more.");
    // Five records with the notification's four buttons each.
    const rows = view.blocks.filter((b) => b.type === "actions");
    expect(rows).toHaveLength(5);
    for (const row of rows) expect((row as { elements: unknown[] }).elements).toHaveLength(4);
  });

  it("lists every entity when few, most first, with its oldest age", () => {
    const tally = tallyParked(
      [
        {
          id: "a",
          state: "parked",
          cluster: "c",
          entity: { kind: "queue", queue: "one" },
          parkedAt: "2026-01-10T11:00:00.000Z",
        },
        {
          id: "b",
          state: "parked",
          cluster: "c",
          entity: { kind: "queue", queue: "two" },
          parkedAt: "2026-01-09T12:00:00.000Z",
        },
        {
          id: "c",
          state: "parked",
          cluster: "c",
          entity: { kind: "queue", queue: "two" },
          parkedAt: "2026-01-10T11:59:00.000Z",
        },
        {
          id: "d",
          state: "replayed",
          cluster: "c",
          entity: { kind: "queue", queue: "three" },
          parkedAt: "2026-01-01T00:00:00.000Z",
        },
      ],
      NOW,
    );
    expect(tally).toEqual({
      total: 3,
      entities: [
        {
          cluster: "c",
          entity: "two",
          count: 2,
          oldestParkedAt: "2026-01-09T12:00:00.000Z",
          oldestAgeMs: 86_400_000,
        },
        {
          cluster: "c",
          entity: "one",
          count: 1,
          oldestParkedAt: "2026-01-10T11:00:00.000Z",
          oldestAgeMs: 3_600_000,
        },
      ],
    });
    const all = texts(
      buildHomeView({ tally, newest: [], recent: [], help: HELP, command: "/victoria", now: NOW }).blocks,
    ).join("\n");
    expect(all).toContain("the oldest has waited 1d.");
    expect(all).toContain("• `c / two` — 2 · oldest 1d\n• `c / one` — 1 · oldest 1h");
    expect(all).not.toContain("more entities");
    expect(ENTITIES_LISTED).toBeGreaterThanOrEqual(2);
  });

  it("tells someone refused why, escaped, and shows nothing else", () => {
    const view = buildRefusedHomeView("Sorry, <eve>@example.com is not a member of the SRE group.");
    expect(view.blocks).toHaveLength(3);
    expect(texts(view.blocks)[1]).toBe("Sorry, &lt;eve&gt;@example.com is not a member of the SRE group.");
    expect(view.blocks.some((b) => b.type === "actions")).toBe(false);
  });
});

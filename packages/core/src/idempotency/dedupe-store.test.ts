import { describe, expect, it } from "vitest";
import { createMemoryDedupeStore } from "./dedupe-store";

describe("memory dedupe store", () => {
  it("lets the first claim through and refuses repeats until the TTL passes", async () => {
    let now = 1_000;
    const store = createMemoryDedupeStore({ now: () => now });
    expect(await store.claim("Ev1", 100)).toBe(true);
    expect(await store.claim("Ev1", 100)).toBe(false);
    expect(await store.claim("Ev2", 100)).toBe(true);
    now += 101;
    expect(await store.claim("Ev1", 100)).toBe(true);
  });

  it("stays bounded, evicting expired keys first and then the oldest", async () => {
    let now = 0;
    const store = createMemoryDedupeStore({ now: () => now, maxEntries: 2 });
    await store.claim("a", 10);
    await store.claim("b", 1_000);
    now = 20;
    expect(await store.claim("c", 1_000)).toBe(true); // "a" expired and was swept
    expect(await store.claim("b", 1_000)).toBe(false);
    expect(await store.claim("d", 1_000)).toBe(true); // full of live keys: "b" (oldest) goes
    expect(await store.claim("b", 1_000)).toBe(true);
  });
});

describe("memory dedupe store, released and repeated keys", () => {
  it("a released key can be claimed again, and its old claim does not evict the new one", async () => {
    let now = 0;
    const store = createMemoryDedupeStore({ now: () => now });
    expect(await store.claim("a", 10)).toBe(true);
    await store.release("a");
    now = 5;
    expect(await store.claim("a", 10)).toBe(true); // re-claimed: expires at 15, not 10
    now = 12; // past the first claim's expiry, which is swept here
    expect(await store.claim("b", 10)).toBe(true);
    expect(await store.claim("a", 10)).toBe(false);
  });

  it("keeps the newest claims when a flood far larger than the bound arrives", async () => {
    const store = createMemoryDedupeStore({ now: () => 0, maxEntries: 100 });
    for (let i = 0; i < 5_000; i++) expect(await store.claim(`k${i}`, 1_000)).toBe(true);
    expect(await store.claim("k4999", 1_000)).toBe(false);
    expect(await store.claim("k4900", 1_000)).toBe(false);
    expect(await store.claim("k0", 1_000)).toBe(true); // long evicted
  });
});

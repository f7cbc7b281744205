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

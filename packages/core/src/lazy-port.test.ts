import { describe, expect, it } from "vitest";
import { lazyPort } from "./lazy-port";

interface Counter {
  add(n: number): Promise<number>;
  close(): Promise<string>;
}

function counter(): Counter {
  let total = 0;
  return {
    add: async (n) => {
      total += n;
      return total;
    },
    close: async () => "closed",
  };
}

describe("lazyPort", () => {
  it("loads the adapter on the first call, once, and forwards every call to it", async () => {
    let loads = 0;
    const port = lazyPort<Counter>({ add: true, close: true }, async () => {
      loads += 1;
      return counter();
    });
    expect(loads).toBe(0);
    const [a, b] = await Promise.all([port.add(2), port.add(3)]);
    expect([a, b].sort()).toEqual([2, 5]);
    expect(await port.add(10)).toBe(15);
    expect(await port.close()).toBe("closed");
    expect(loads).toBe(1);
  });

  it("answers from `unloaded` until something has loaded, then from the adapter", async () => {
    let loads = 0;
    const port = lazyPort<Counter>(
      { add: true, close: true },
      async () => {
        loads += 1;
        return counter();
      },
      { close: async () => "nothing to close" },
    );
    expect(await port.close()).toBe("nothing to close");
    expect(loads).toBe(0);
    await port.add(1);
    expect(await port.close()).toBe("closed");
  });

  it("retries a failed load on the next call instead of keeping the failure", async () => {
    let attempts = 0;
    const port = lazyPort<Counter>({ add: true, close: true }, async () => {
      attempts += 1;
      if (attempts === 1) throw new Error("module not found");
      return counter();
    });
    await expect(port.add(1)).rejects.toThrow("module not found");
    expect(await port.add(1)).toBe(1);
    expect(attempts).toBe(2);
  });

  it("is not mistaken for a promise when awaited", async () => {
    const port = lazyPort<Counter>({ add: true, close: true }, async () => counter());
    expect(await port).toBe(port);
  });
});

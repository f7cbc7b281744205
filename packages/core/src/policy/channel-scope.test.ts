import { describe, expect, it } from "vitest";
import { describeChannels, inChannels } from "./channel-scope";

const ops = { id: "C0OPS", isDm: false };
const dm = { id: "D0DM", isDm: true };

describe("inChannels", () => {
  it("no channels (null) and `*` mean anywhere, DMs included", () => {
    expect(inChannels(null, ops)).toBe(true);
    expect(inChannels(null, dm)).toBe(true);
    expect(inChannels(["*"], dm)).toBe(true);
  });

  it("`dm` means any direct message, ids mean those channels only", () => {
    expect(inChannels(["dm"], dm)).toBe(true);
    expect(inChannels(["dm"], ops)).toBe(false);
    expect(inChannels(["C0OPS"], ops)).toBe(true);
    expect(inChannels(["C0OPS"], { id: "C0GENERAL", isDm: false })).toBe(false);
    expect(inChannels(["C0OPS"], dm)).toBe(false);
    expect(inChannels(["C0OPS", "dm"], dm)).toBe(true);
  });
});

describe("describeChannels", () => {
  it("names channels for a terminal and the audit, direct messages last", () => {
    expect(describeChannels(["C0OPS"])).toBe("C0OPS");
    expect(describeChannels(["dm"])).toBe("direct messages");
    expect(describeChannels(["dm", "C0OPS"])).toBe("C0OPS or direct messages");
    expect(describeChannels(["C0OPS", "C0SRE", "dm", "C0OPS"])).toBe("C0OPS, C0SRE or direct messages");
  });
});

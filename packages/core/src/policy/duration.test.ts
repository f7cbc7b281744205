import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration";

describe("parseDuration", () => {
  it("reads seconds, minutes, hours and days, alone or combined", () => {
    expect(parseDuration("45s")).toBe(45_000);
    expect(parseDuration("30m")).toBe(1_800_000);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(parseDuration("1d")).toBe(86_400_000);
    expect(parseDuration(" 1h30m ")).toBe(5_400_000);
    expect(parseDuration("0m")).toBe(0);
  });

  it("refuses bare numbers, other units, spaces inside and signs", () => {
    for (const text of ["30", "", "m", "1w", "1 h", "-5m", "1.5h", "30min", "1h 30m"]) {
      expect(parseDuration(text), text).toBeUndefined();
    }
  });
});

describe("formatDuration", () => {
  it("is the shortest text that parses back", () => {
    for (const text of ["30m", "2h", "1d", "1h30m", "1d2h3m4s", "45s"]) {
      expect(formatDuration(parseDuration(text) as number)).toBe(text);
    }
    expect(formatDuration(90 * 60_000)).toBe("1h30m");
    expect(formatDuration(0)).toBe("0s");
  });
});

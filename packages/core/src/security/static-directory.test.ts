import { describe, expect, it } from "vitest";
import { createStaticDirectory, parseMemberList } from "./static-directory";

describe("parseMemberList", () => {
  it("splits on commas, trims, lower-cases and drops empties and duplicates", () => {
    expect(
      parseMemberList(" Alice@Example.com, bob@example.com ,,\n carol@example.com;ALICE@example.com, "),
    ).toEqual(["alice@example.com", "bob@example.com", "carol@example.com"]);
  });

  it("gives nothing for an empty or blank list", () => {
    expect(parseMemberList("")).toEqual([]);
    expect(parseMemberList(" , ,")).toEqual([]);
  });
});

describe("createStaticDirectory", () => {
  it("answers from a comma-separated list, case-insensitively and ignoring surrounding blanks", async () => {
    const directory = createStaticDirectory("sre@example.com, Ops.Lead@Example.com");
    expect(await directory.isMember("sre@example.com")).toBe(true);
    expect(await directory.isMember("  SRE@EXAMPLE.COM ")).toBe(true);
    expect(await directory.isMember("ops.lead@example.com")).toBe(true);
    expect(await directory.isMember("intruder@example.com")).toBe(false);
  });

  it("takes an array, whose entries may themselves be lists", async () => {
    const directory = createStaticDirectory([
      "a@example.com",
      " B@example.com ",
      "",
      "c@example.com,d@example.com",
    ]);
    for (const email of ["a@example.com", "b@example.com", "c@example.com", "d@example.com"]) {
      expect(await directory.isMember(email)).toBe(true);
    }
    expect(await directory.isMember("e@example.com")).toBe(false);
  });

  it("never counts an empty email as a member, even of a list with empty entries", async () => {
    const directory = createStaticDirectory(" , a@example.com,");
    expect(await directory.isMember("")).toBe(false);
    expect(await directory.isMember("   ")).toBe(false);
  });

  it("does not match on parts of addresses", async () => {
    const directory = createStaticDirectory("alice@example.com");
    expect(await directory.isMember("alice@example")).toBe(false);
    expect(await directory.isMember("lice@example.com")).toBe(false);
    expect(await directory.isMember("alice@example.com.evil")).toBe(false);
  });
});

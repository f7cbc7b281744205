import { describe, expect, it } from "vitest";
import { createStaticSubjectDirectory, createUnconfiguredSubjectDirectory } from "./subject-directory";

describe("createStaticSubjectDirectory", () => {
  it("answers from its table, case-insensitively; an unknown group is an error, not a no", async () => {
    const dir = createStaticSubjectDirectory({ g1: ["Alice@Example.com "] });
    expect(await dir.inGroup("g1", " alice@EXAMPLE.com")).toBe(true);
    expect(await dir.inGroup("g1", "eve@example.com")).toBe(false);
    await expect(dir.inGroup("g2", "alice@example.com")).rejects.toThrow("No group g2 is configured");
  });
});

describe("createUnconfiguredSubjectDirectory", () => {
  it("fails every look-up with the hint", async () => {
    await expect(
      createUnconfiguredSubjectDirectory("set AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET").inGroup(
        "g1",
        "a@b.c",
      ),
    ).rejects.toThrow(
      "Cannot check Entra group g1: set AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET",
    );
  });
});

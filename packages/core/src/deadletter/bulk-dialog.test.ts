import { describe, expect, it } from "vitest";
import { createVictoria } from "../victoria/engine";
import { BufferedOutput } from "../victoria/output";
import { corePlugins } from "../victoria/plugins/core-plugins";
import {
  bulkDialogForCommand,
  bulkFilterDialog,
  bulkFilterSubmission,
  MAX_PRIVATE_METADATA,
} from "./bulk-dialog";

const NOW = new Date("2030-01-02T00:00:00Z");
type Values = Parameters<typeof bulkFilterSubmission>[0];

function values(form: Record<string, string>, action = "replay"): Values {
  const out: Values = { action: { choice: { selected_option: { value: action } } } };
  for (const [block, value] of Object.entries(form)) out[block] = { text: { value } };
  return out;
}

describe("the bulk dialog's filter form", () => {
  it("bounds every text field and pre-fills cluster and entity cleaned", () => {
    const view = bulkFilterDialog({ cluster: "prod1", entity: "orders\u202e", channel: "C1" });
    const inputs = (view.blocks as { block_id: string; element: Record<string, unknown> }[]).filter(
      (b) => b.element.type === "plain_text_input",
    );
    expect(inputs.length).toBe(8);
    for (const input of inputs) expect(input.element.max_length).toBeGreaterThan(0);
    expect(inputs.find((b) => b.block_id === "entity")?.element.initial_value).toBe("orders");
  });

  it("reads since, where, rate and canary as the command does; mistakes on their fields", () => {
    const ok = bulkFilterSubmission(
      values({
        entity: "orders",
        since: "2h",
        where: "tenant=acme\n\nregion=eu=west",
        rate: "20/s",
        canary: "3",
      }),
      JSON.stringify({ channel: "C1" }),
      NOW,
    );
    expect(ok).toMatchObject({
      ok: true,
      metadata: {
        channel: "C1",
        request: {
          action: "replay",
          filter: {
            entity: "orders",
            since: "2030-01-01T22:00:00.000Z",
            where: [
              { key: "tenant", value: "acme" },
              { key: "region", value: "eu=west" },
            ],
          },
          rate: 20,
          canary: 3,
        },
      },
    });
    const bad = bulkFilterSubmission(
      values({ entity: "orders", where: "=x", rate: "500", canary: "2" }, "delete"),
      "{}",
      NOW,
    );
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(Object.keys(bad.errors).sort()).toEqual(["canary", "rate", "where"]);
    const none = bulkFilterSubmission(values({}), "{}", NOW);
    expect(none.ok ? {} : none.errors).toHaveProperty("entity");
  });

  it("refuses a filter too long for Slack's private_metadata on its longest field", () => {
    const where = Array.from({ length: 100 }, (_, i) => `key${i}=${"v".repeat(12)}`).join("\n");
    const long = bulkFilterSubmission(
      values({ reason: "x".repeat(500), grep: "y".repeat(500), where }),
      "{}",
      NOW,
    );
    expect(JSON.stringify({ where }).length).toBeLessThan(MAX_PRIVATE_METADATA);
    expect(long.ok ? {} : long.errors).toHaveProperty("where");
  });

  it("opens for `deadletter bulk` with pre-fill flags, and not for anything else", () => {
    expect(bulkDialogForCommand(["deadletter", "bulk", "--entity", "orders"], "C1")).toBeDefined();
    expect(bulkDialogForCommand(["deadletter", "bulk", "--help"], "C1")).toBeUndefined();
    expect(bulkDialogForCommand(["deadletter", "ls"], "C1")).toBeUndefined();
  });

  it("`victoria deadletter bulk` outside Slack says it is a dialog and prints the command", async () => {
    const victoria = createVictoria({
      plugins: corePlugins,
      providers: { encryption: {}, storage: {} },
      env: {},
    });
    const out = new BufferedOutput();
    expect(await victoria.run(["deadletter", "bulk"], { out })).toBe(0);
    expect(out.text()).toContain("is a Slack dialog");
    expect(out.text()).toContain("victoria deadletter replay|delete [--cluster C]");
  });
});

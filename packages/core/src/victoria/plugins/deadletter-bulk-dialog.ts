import { BULK_DIALOG_CLI_HINT } from "../../deadletter/bulk-dialog";
import type { CommandSpec } from "../plugin";

/**
 * `deadletter bulk`: in Slack (`/victoria deadletter bulk`) the worker opens the Bulk… dialog before
 * this runs; anywhere else (a terminal, `/execute`) there is no dialog, so it says so and prints
 * the commands that do the same.
 */
export const bulkDialogCommand: CommandSpec = {
  name: "bulk",
  summary:
    "In Slack: open the bulk replay/delete dialog (filter → preview → confirm). Elsewhere: how to do it by command.",
  sensitive: false,
  args: [],
  options: [
    { name: "cluster", description: "Pre-fill the dialog with this cluster.", takesValue: true },
    { name: "entity", description: "Pre-fill the dialog with this entity.", takesValue: true },
  ],
  async run(ctx) {
    for (const line of BULK_DIALOG_CLI_HINT) ctx.out.out(line);
  },
};

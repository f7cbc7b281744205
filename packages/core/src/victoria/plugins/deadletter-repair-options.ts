import { parseAssignments, type RepairEdits, RepairError } from "../../deadletter/repair";
import { stripControlCharacters } from "../../slack/slack-text";
import { CommandFailure } from "../errors";
import type { CommandContext, OptionSpec } from "../plugin";

/** `deadletter replay ID --body TEXT --set KEY=VALUE --unset KEY`: a replay with edits (a repair). */
export const repairOptions: OptionSpec[] = [
  {
    name: "body",
    description:
      "Replay with this body instead, keeping its kind: JSON must parse (sent as JSON), text stays text, a binary body becomes the text's UTF-8 bytes.",
    takesValue: true,
    metavar: "TEXT",
  },
  {
    name: "set",
    description:
      "Replay with this application property set (repeatable); a number or boolean stays one when VALUE reads as one, a new property is a string.",
    takesValue: true,
    metavar: "KEY=VALUE",
    repeatable: true,
  },
  {
    name: "unset",
    description: "Replay without this application property (repeatable).",
    takesValue: true,
    metavar: "KEY",
    repeatable: true,
  },
];

function listOf(ctx: CommandContext, name: string): readonly string[] {
  const value = ctx.options?.[name];
  return ctx.lists?.[name] ?? (typeof value === "string" ? [value] : []);
}

/** The edits `repairOptions` asked for, or undefined for a plain replay; a malformed one is a usage error. */
export function repairEditsOf(ctx: CommandContext): RepairEdits | undefined {
  const body = ctx.options?.body;
  const set = listOf(ctx, "set");
  const unset = listOf(ctx, "unset");
  if (typeof body !== "string" && set.length === 0 && unset.length === 0) return undefined;
  if (!ctx.args.id) {
    throw new CommandFailure(
      "--body, --set and --unset edit one dead letter: give its id (they cannot be combined with a bulk replay).",
      { failureClass: "usage" },
    );
  }
  try {
    return {
      ...(typeof body === "string" ? { body } : {}),
      ...(set.length > 0 ? { set: parseAssignments(set.map((text) => ({ text, what: "--set" }))) } : {}),
      ...(unset.length > 0 ? { unset: [...unset] } : {}),
    };
  } catch (error) {
    if (!(error instanceof RepairError)) throw error;
    // The text came from the command line, maybe pasted: no terminal escapes back out.
    throw new CommandFailure(stripControlCharacters(error.message), { failureClass: "usage" });
  }
}

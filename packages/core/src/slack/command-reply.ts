import type { ChatMessage, CommandResult } from "../ports";

/** Output shown inline; Slack folds long messages and a section holds 3,000 characters. */
export const INLINE_OUTPUT_LIMIT = 2800;

/** Keeps triple backticks in output from closing our code block early. */
function fence(output: string): string {
  const body = output.replace(/```/g, "`\u200b``").trimEnd();
  return `\`\`\`${body || "(no output)"}\`\`\``;
}

export interface CommandReply extends ChatMessage {
  /** The full output when it did not fit inline (callers attach it as a file where they can). */
  overflow?: string;
}

function withOutput(headline: string, output: string, footnote: (shown: number) => string): CommandReply {
  if (output.length <= INLINE_OUTPUT_LIMIT) {
    const text = `${headline}\n${fence(output)}`;
    return { text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] };
  }
  const shown = output.slice(0, INLINE_OUTPUT_LIMIT);
  const note = footnote(shown.length);
  const text = `${headline}\n${fence(shown)}\n${note}`;
  return {
    text,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `${headline}\n${fence(shown)}` } },
      { type: "context", elements: [{ type: "mrkdwn", text: note }] },
    ],
    overflow: output,
  };
}

const truncatedNote = (total: number) => (shown: number) =>
  `:scissors: Output truncated: showing the first ${shown.toLocaleString("en")} of ${total.toLocaleString("en")} characters.`;

export function commandLine(args: readonly string[]): string {
  return [
    "victoria",
    ...args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)),
  ].join(" ");
}

/** The reply for a command that ran: its output in a code block, and whether it failed. */
export function resultReply(args: readonly string[], result: CommandResult): CommandReply {
  const full = commandLine(args).replace(/`/g, "'");
  const line = `\`${full.length > 150 ? `${full.slice(0, 150)}…` : full}\``;
  const headline =
    result.exitCode === 0 ? `:white_check_mark: ${line}` : `:x: ${line} failed (non-zero exit status)`;
  return withOutput(headline, result.output, truncatedNote(result.output.length));
}

/** A short message with no output (refusals, errors before running). */
export function noticeReply(text: string): ChatMessage {
  return { text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] };
}

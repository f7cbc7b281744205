import type { ChatMessage, CommandResult } from "../ports";
import { code, codeBlock, escapeWithin, type Mrkdwn, mrkdwn, truncateMrkdwn } from "./slack-text";

/**
 * Escaped output shown inline; a section holds 3,000 characters, and this leaves room for the
 * headline (at most ~200: the command line is cut to 150) and the fences.
 */
export const INLINE_OUTPUT_LIMIT = 2800;

/** Slack refuses a section whose text is longer (invalid_blocks), and the user would be told nothing. */
const SECTION_TEXT_LIMIT = 3000;

export interface CommandReply extends ChatMessage {
  /** The full output when it did not fit inline (callers attach it as a file where they can). */
  overflow?: string;
}

const section = (text: Mrkdwn) => ({ type: "section", text: { type: "mrkdwn", text: text.text } });

function withOutput(headline: Mrkdwn, output: string): CommandReply {
  const { block, shown, total } = codeBlock(output, { max: INLINE_OUTPUT_LIMIT, placeholder: "(no output)" });
  const inline = mrkdwn`${headline}\n${block}`;
  if (shown === total) return { text: inline.text, blocks: [section(inline)] };
  // ✂ itself, not `:scissors:`: an emoji code is text wherever it is not expanded (a notification's
  // fallback, the workbench), and U+2702 shows as a plain glyph without an emoji font.
  const note = mrkdwn`✂ Output truncated: showing the first ${shown.toLocaleString("en")} of ${total.toLocaleString("en")} characters.`;
  return {
    text: mrkdwn`${inline}\n${note}`.text,
    blocks: [section(inline), { type: "context", elements: [{ type: "mrkdwn", text: note.text }] }],
    overflow: output,
  };
}

export function commandLine(args: readonly string[]): string {
  return [
    "victoria",
    ...args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)),
  ].join(" ");
}

/** The reply for a command that ran: its output in a code block, and whether it failed. */
export function resultReply(args: readonly string[], result: CommandResult): CommandReply {
  const line = code(commandLine(args), 150);
  const headline =
    result.exitCode === 0
      ? mrkdwn`:white_check_mark: ${line}`
      : mrkdwn`:x: ${line} failed (non-zero exit status)`;
  return withOutput(headline, result.output);
}

/**
 * A short message with no output (refusals, errors before running). A plain string is outside text
 * (e.g. an authorization refusal naming the user's email) and is escaped whole; build anything with
 * formatting or a mention with the `mrkdwn` tag, which is taken as it is.
 */
export function noticeReply(text: string | Mrkdwn): ChatMessage {
  const message =
    typeof text === "string"
      ? escapeWithin(text, SECTION_TEXT_LIMIT)
      : truncateMrkdwn(text, SECTION_TEXT_LIMIT);
  return { text: message.text, blocks: [section(message)] };
}

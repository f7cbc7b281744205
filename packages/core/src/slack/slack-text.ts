/*
 * The one place where a string from outside (an alert, a dead letter, command output, user input,
 * a Slack profile) becomes Slack text. Everything that reaches Slack goes through here exactly once.
 *
 * Slack has two kinds of text:
 * - mrkdwn (section and context text, a message's `text`): Slack reads `&`, `<` and `>` as markup
 *   (`<!channel>`, `<http://x|label>`), so outside text is escaped, in code spans and blocks too
 *   (Slack decodes the entities there as well). Build it with the `mrkdwn` tag: the literal parts
 *   are ours; every interpolated string is escaped; a `Mrkdwn` value is inserted as it is. Only this
 *   module makes `Mrkdwn` values, so text is never escaped twice (`&amp;amp;`) nor forgotten.
 * - plain_text (headers, buttons, dialog titles, input errors): shown literally, entities are not
 *   decoded, so it is only cleaned of control characters (`cleanPlainText`) and cut to length.
 */

// CSI (colours, cursor moves) and OSC (titles, terminal hyperlinks) sequences, removed whole so that
// `\u001b[31mred` reads `red` rather than `[31mred`.
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
const ANSI_SEQUENCES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

// C0/C1 controls except tab and newline, and the bidirectional marks, overrides and isolates (e.g.
// RLO) that make text read differently from what it is.
const UNSAFE_CHARACTERS =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Removes terminal escape sequences, control and bidi-override characters; tabs and newlines stay. */
export function stripControlCharacters(text: string): string {
  return text.replace(ANSI_SEQUENCES, "").replace(UNSAFE_CHARACTERS, "");
}

const ENTITIES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/** `&`, `<`, `>` as Slack documents; the text must already be cleaned. */
const escapeEntities = (text: string): string => text.replace(/[&<>]/g, (char) => ENTITIES[char] ?? char);

/** Outside text made safe for mrkdwn: controls removed, then `&`, `<`, `>` escaped as Slack documents. */
export function escapeSlackText(text: string): string {
  return escapeEntities(stripControlCharacters(text));
}

/** Outside text for a plain_text field: controls removed, cut to `max` with `…`; no entities. */
export function cleanPlainText(text: string, max = Number.POSITIVE_INFINITY): string {
  const clean = stripControlCharacters(text);
  if (clean.length <= max) return clean;
  return `${prefixWithin(clean, max - 1, (char) => char.length)}…`;
}

// ---------------------------------------------------------------------------------------------
// mrkdwn

declare const made: unique symbol;

/** mrkdwn text whose outside parts were escaped exactly once; made only by this module. */
export type Mrkdwn = { readonly text: string; readonly [made]: true };

/** What the `mrkdwn` tag takes: strings are escaped, numbers shown, `Mrkdwn` inserted as it is. */
export type MrkdwnValue = string | number | Mrkdwn;

const trusted = (text: string): Mrkdwn => ({ text }) as Mrkdwn;

const piece = (value: MrkdwnValue): string =>
  typeof value === "string" ? escapeSlackText(value) : typeof value === "number" ? String(value) : value.text;

/**
 * mrkdwn from a template whose literal parts are ours: each interpolated value is escaped once,
 * e.g. mrkdwn`:warning: ${count} on ${code(entity)}: ${reason}`.
 */
export function mrkdwn(literals: TemplateStringsArray, ...values: MrkdwnValue[]): Mrkdwn {
  let text = literals[0] ?? "";
  for (const [index, value] of values.entries()) text += piece(value) + (literals[index + 1] ?? "");
  return trusted(text);
}

/** Outside text escaped and cut so that the result, `…` included, is at most `max` characters. */
export function escapeWithin(text: string, max: number): Mrkdwn {
  const clean = stripControlCharacters(text);
  const escaped = escapeEntities(clean);
  if (escaped.length <= max) return trusted(escaped);
  return trusted(`${escapeEntities(prefixWithin(clean, max - 1, escapedLength))}…`);
}

/** Outside text as an inline code span: backticks would end the span and newlines break it. */
export function code(text: string, max = Number.POSITIVE_INFINITY): Mrkdwn {
  const inline = stripControlCharacters(text).replace(/`/g, "'").replace(/\r?\n/g, " ");
  return trusted(`\`${escapeWithin(inline, max).text}\``);
}

/** A code block and how much of the (cleaned) text it shows. */
export interface CodeBlock {
  block: Mrkdwn;
  /** Characters of the cleaned text shown. */
  shown: number;
  /** Characters of the cleaned text. */
  total: number;
}

/**
 * Outside text as a code block: controls removed, ``` inside kept from closing the block early,
 * escaped. With `max`, only the longest start whose escaped content fits in `max` characters is
 * shown (`shown` < `total`). An empty block would show its backticks, so it shows `placeholder`.
 */
export function codeBlock(
  text: string,
  { max = Number.POSITIVE_INFINITY, placeholder = "(empty)" }: { max?: number; placeholder?: string } = {},
): CodeBlock {
  const clean = stripControlCharacters(text);
  const shown = prefixWithin(clean, max, codeBlockCost());
  const body = shown.trimEnd().replace(/```/g, "`\u200b``") || stripControlCharacters(placeholder);
  return { block: trusted(`\`\`\`${escapeEntities(body)}\`\`\``), shown: shown.length, total: clean.length };
}

/** A Slack member id as a mention Slack renders as the name; anything else is shown as text. */
export function mention(userId: string): Mrkdwn {
  return /^[UW][A-Z0-9]+$/.test(userId) ? trusted(`<@${userId}>`) : escapeWithin(userId, 200);
}

/** A Slack channel id as a link Slack renders as `#name`; anything else is shown as text. */
export function channelMention(channelId: string): Mrkdwn {
  return /^[CGD][A-Z0-9]+$/.test(channelId) ? trusted(`<#${channelId}>`) : escapeWithin(channelId, 200);
}

/** mrkdwn pieces joined by `separator`, which is ours (e.g. "\n" or " · "). */
export function joinMrkdwn(parts: readonly Mrkdwn[], separator: string): Mrkdwn {
  return trusted(parts.map((part) => part.text).join(separator));
}

/** Cuts mrkdwn to `max` characters with `…`, backing off a half-cut `&amp;` entity or `<@U…>` mention. */
export function truncateMrkdwn(text: Mrkdwn, max: number): Mrkdwn {
  if (text.text.length <= max) return text;
  let cut = prefixWithin(text.text, max - 1, (char) => char.length);
  const amp = cut.lastIndexOf("&");
  if (amp > cut.lastIndexOf(";")) cut = cut.slice(0, amp);
  const open = cut.lastIndexOf("<");
  if (open > cut.lastIndexOf(">")) cut = cut.slice(0, open);
  return trusted(`${cut}…`);
}

// ---------------------------------------------------------------------------------------------
// Cutting

const escapedLength = (char: string): number => ENTITIES[char]?.length ?? char.length;

/** The cost of each character in a code block: its escaped length, +1 for each ``` broken up. */
function codeBlockCost(): (char: string) => number {
  let backticks = 0;
  return (char) => {
    backticks = char === "`" ? backticks + 1 : 0;
    return escapedLength(char) + (backticks > 0 && backticks % 3 === 0 ? 1 : 0);
  };
}

/**
 * The longest start of `text` whose characters cost at most `max` in all, in whole code points
 * (UTF-16 units, which never undercount what Slack counts), so a surrogate pair is never split.
 */
function prefixWithin(text: string, max: number, cost: (char: string) => number): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    used += cost(char);
    if (used > max) break;
    end += char.length;
  }
  return text.slice(0, end);
}

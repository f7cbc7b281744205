/** The text could not be split into arguments (an unbalanced quote, a trailing backslash). */
export class TokenizeError extends Error {
  override readonly name = "TokenizeError";
}

const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">" };

/**
 * Undoes Slack's message formatting so commands see what the user typed: `&amp;`/`&lt;`/`&gt;`
 * escapes, `<http://x|label>` and `<mailto:a@b|a@b>` links, and the smart quotes clients substitute.
 */
export function unformatSlackText(text: string): string {
  return text
    .replace(/<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>/g, (_, url: string, label?: string) =>
      url.startsWith("mailto:") ? (label ?? url.slice(7)) : url,
    )
    .replace(/&(amp|lt|gt);/g, (entity) => ENTITIES[entity] ?? entity)
    .replace(/[\u201C\u201D]/g, '"')
    .replace(/[\u2018\u2019]/g, "'");
}

/** Removes leading bot mentions (`<@U123>` or `<@U123|victoria>`), as in "@victoria config view". */
export function stripLeadingMentions(text: string): string {
  return text.replace(/^\s*(?:<@[A-Z0-9]+(?:\|[^>]*)?>\s*)+/i, "");
}

/**
 * Splits a command line like a POSIX shell does, without expansion: whitespace separates words,
 * single quotes keep everything literally, double quotes keep everything but `\"` and `\\`,
 * a backslash outside quotes escapes the next character.
 */
export function tokenize(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  let quoteStart = 0;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
      continue;
    }
    if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === "\\" && (line[i + 1] === '"' || line[i + 1] === "\\")) word += line[++i];
      else word += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      quoteStart = i;
      inWord = true;
    } else if (ch === "\\") {
      const next = line[i + 1];
      if (next === undefined) throw new TokenizeError("the command ends with a lone backslash");
      if (next !== "\n") word += next;
      inWord = true;
      i++;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) {
    const kind = quote === "'" ? "single" : "double";
    throw new TokenizeError(`unbalanced ${kind} quote (opened at character ${quoteStart + 1})`);
  }
  if (inWord) words.push(word);
  return words;
}

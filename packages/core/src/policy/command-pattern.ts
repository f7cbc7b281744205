import type { CommandPattern } from "./policy";

/**
 * How rules name commands: by leading words (`deadletter delete`), `*` standing for exactly one word
 * (`store * put`: any storage provider), a lone `*` for every command.
 */

/** Why `text` is not a command pattern, or `undefined` when it is one. */
export function commandPatternProblem(text: string): string | undefined {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return 'expected the leading words of a command, e.g. "deadletter ls"';
  const partial = words.find((word) => word.includes("*") && word !== "*");
  if (partial !== undefined) {
    return `"${partial}": * stands for one whole word, e.g. "store * put"`;
  }
  return undefined;
}

/** A pattern from its text; check it with {@link commandPatternProblem} first. */
export function toCommandPattern(text: string): CommandPattern {
  const words = text.trim().split(/\s+/).filter(Boolean);
  return { text: words.join(" "), words: words.length === 1 && words[0] === "*" ? [] : words };
}

/**
 * The words a command is matched on: argv without its options, so that `-- deadletter delete x`,
 * `deadletter -- delete x` or `-c f deadletter delete x` (all of which run `deadletter delete`) cannot slip
 * past a `deadletter delete` rule. `-h` counts as `--help`, and `--help` and `--version` stay, as they are
 * commands of their own (`victoria --help`). After `--` every word is an argument, kept as typed.
 */
export function commandWords(argv: readonly string[]): string[] {
  const words: string[] = [];
  let optionsEnded = false;
  let commandStarted = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (optionsEnded || !arg.startsWith("-") || arg === "-") {
      words.push(arg);
      commandStarted = true;
    } else if (arg === "--") {
      optionsEnded = true;
    } else if (arg === "-h" || arg === "--help" || arg === "--version") {
      words.push(arg === "-h" ? "--help" : arg);
    } else if (!commandStarted && (arg === "-c" || arg === "--config-file")) {
      // Victoria's global option takes a value, which is not a command word either.
      i++;
    }
    // Any other option is dropped; its value, if it has one, is left among the arguments.
  }
  return words;
}

/** Whether `words` begin with the pattern's words (`*` matching any one). */
export function matchesCommand(pattern: CommandPattern, words: readonly string[]): boolean {
  if (pattern.words.length > words.length) return false;
  return pattern.words.every((word, i) => word === "*" || word === words[i]);
}

/** How many leading words of `words` agree with the pattern, for a pattern that need not match whole. */
function agreement(pattern: CommandPattern, words: readonly string[]): number {
  let n = 0;
  while (n < pattern.words.length && n < words.length) {
    const word = pattern.words[n];
    if (word !== "*" && word !== words[n]) break;
    n++;
  }
  return n;
}

/**
 * The leading words that name the command in messages (`deadletter delete`), never its whole line: what
 * follows may be data (`encrypt data <secret>`). A matched pattern names as many words as it has; otherwise
 * two, or one more than the policy's patterns tell apart (`store s3 get`), at most three.
 */
export function commandLabel(
  words: readonly string[],
  patterns: readonly CommandPattern[],
  matched?: CommandPattern,
): string {
  if (matched !== undefined && matched.words.length > 0)
    return words.slice(0, matched.words.length).join(" ");
  const known = Math.max(0, ...patterns.map((pattern) => agreement(pattern, words)));
  return words.slice(0, Math.min(3, Math.max(2, known + 1))).join(" ");
}

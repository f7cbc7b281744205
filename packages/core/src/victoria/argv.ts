import { didYouMean } from "./did-you-mean";
import { UsageError } from "./errors";
import type { ArgSpec, OptionSpec } from "./plugin";

/** The options `victoria` itself takes, before the plugin name. */
export interface GlobalOptions {
  configFile?: string;
  help: boolean;
  version: boolean;
}

export interface SplitArgv {
  options: GlobalOptions;
  /** Everything from the plugin name on. */
  rest: string[];
}

/** `No such option: --jsn. Did you mean '--json'?`, the suggestion drawn from the `known` flags. */
function noSuchOption(arg: string, known: readonly string[], usage: string): UsageError {
  const hint = didYouMean(arg.split("=", 1)[0] as string, known);
  return new UsageError(`No such option: ${arg}${hint ? `.${hint}` : ""}`, usage);
}

/**
 * Reads `[-c|--config-file FILE] [-h|--help] [--version]` up to the first positional,
 * which is the plugin name. Unknown options are usage errors, as in click.
 */
export function splitGlobalOptions(argv: readonly string[], usage: string): SplitArgv {
  const options: GlobalOptions = { help: false, version: false };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    if (arg === "-h" || arg === "--help") options.help = true;
    else if (arg === "--version") options.version = true;
    else if (arg === "-c" || arg === "--config-file") {
      const value = argv[i + 1];
      if (value === undefined) throw new UsageError(`Option '${arg}' requires an argument.`, usage);
      options.configFile = value;
      i++;
    } else if (arg.startsWith("--config-file=")) options.configFile = arg.slice("--config-file=".length);
    else if (arg.startsWith("-c") && arg.length > 2) options.configFile = arg.slice(2);
    else throw noSuchOption(arg, ["--config-file", "--help", "--version"], usage);
  }
  return { options, rest: argv.slice(i) };
}

/** Values of a command's declared options: the value of `--name VALUE`, `true`/`false` for a flag. */
export type OptionValues = Record<string, string | boolean | undefined>;

export interface PositionalParse {
  help: boolean;
  values: Record<string, string | undefined>;
  /** Declared options: flags default to `false`, valued options to `undefined`. */
  options: OptionValues;
  /** The words of a variadic last positional (see `ArgSpec.variadic`) and the values of a repeatable option, by name. */
  lists: Record<string, string[]>;
  /** What follows the declared positionals (e.g. a plugin's subcommand and its arguments). */
  rest: string[];
}

/** `'a', 'b', 'c'`: how click lists choices in its messages. */
const quoted = (values: readonly string[]) => values.map((v) => `'${v}'`).join(", ");

/**
 * Reads one `--name`, `--name VALUE` or `--name=VALUE` at `argv[i]` into `options`; answers how
 * many arguments it used. A value that follows is taken whatever it looks like, as click does.
 */
function readOption(
  argv: readonly string[],
  i: number,
  specs: readonly OptionSpec[],
  options: OptionValues,
  lists: Record<string, string[]>,
  usage: string,
): number {
  const arg = argv[i] as string;
  const eq = arg.indexOf("=");
  const flag = eq >= 0 ? arg.slice(0, eq) : arg;
  const spec = flag.startsWith("--") ? specs.find((s) => `--${s.name}` === flag) : undefined;
  if (!spec) throw noSuchOption(flag, [...specs.map((s) => `--${s.name}`), "--help"], usage);
  if (!spec.takesValue) {
    if (eq >= 0) throw new UsageError(`Option '${flag}' does not take a value.`, usage);
    options[spec.name] = true;
    return 1;
  }
  const value = eq >= 0 ? arg.slice(eq + 1) : argv[i + 1];
  if (value === undefined) throw new UsageError(`Option '${flag}' requires an argument.`, usage);
  options[spec.name] = value;
  if (spec.repeatable) lists[spec.name] = [...(lists[spec.name] ?? []), value];
  return eq >= 0 ? 1 : 2;
}

/** Choices are checked after parsing, so `--state bogus --help` still shows help (click's eager --help). */
function checkChoices(specs: readonly OptionSpec[], options: OptionValues, usage: string): void {
  for (const spec of specs) {
    const value = options[spec.name];
    if (spec.choices && typeof value === "string" && !spec.choices.includes(value)) {
      throw new UsageError(
        `Invalid value for '--${spec.name}': '${value}' is not one of ${quoted(spec.choices)}.`,
        usage,
      );
    }
  }
}

/**
 * Binds positionals to `specs` and reads the declared `optionSpecs` wherever they appear among
 * them. With `stopAfterSpecs`, everything after the positionals is handed back untouched (a
 * plugin's own args come before its subcommand); otherwise extra arguments are an error.
 * `-h/--help` is always accepted; any other undeclared option is a usage error; `--` ends options.
 * A variadic last spec takes every word from its first one on, as typed (options and `--` included:
 * they belong to the command line it holds); its value is those words joined by spaces. Options
 * before its first word are still read (`--help` too), so a line it holds that starts with an option
 * comes after `--`.
 */
export function bindPositionals(
  argv: readonly string[],
  specs: readonly ArgSpec[],
  usage: string,
  stopAfterSpecs: boolean,
  optionSpecs: readonly OptionSpec[] = [],
): PositionalParse {
  const values: Record<string, string | undefined> = {};
  const options: OptionValues = Object.fromEntries(
    optionSpecs.map((o) => [o.name, o.takesValue ? undefined : false]),
  );
  const positionals: string[] = [];
  const lists: Record<string, string[]> = {};
  const variadic = !stopAfterSpecs && specs.at(-1)?.variadic === true ? specs.at(-1) : undefined;
  let help = false;
  let optionsEnded = false;
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] as string;
    if (!optionsEnded && arg === "--") {
      optionsEnded = true;
      i++;
      continue;
    }
    if (!optionsEnded && arg.startsWith("-") && arg !== "-") {
      if (arg === "-h" || arg === "--help") {
        help = true;
        i++;
      } else {
        i += readOption(argv, i, optionSpecs, options, lists, usage);
      }
      continue;
    }
    if (stopAfterSpecs && positionals.length === specs.length) break;
    if (variadic && positionals.length === specs.length - 1) {
      lists[variadic.name] = argv.slice(i);
      i = argv.length;
      break;
    }
    positionals.push(arg);
    i++;
  }
  const rest = argv.slice(i);
  if (help) return { help, values, options, lists, rest };
  checkChoices(optionSpecs, options, usage);
  if (!stopAfterSpecs && positionals.length > specs.length) {
    throw new UsageError(
      `Got unexpected extra argument (${positionals.slice(specs.length).join(" ")})`,
      usage,
    );
  }
  (variadic ? specs.slice(0, -1) : specs).forEach((spec, index) => {
    const value = positionals[index];
    if (value === undefined && !spec.optional) {
      throw new UsageError(`Missing argument '${spec.name.toUpperCase()}'.`, usage);
    }
    values[spec.name] = value;
  });
  if (variadic) {
    const words = lists[variadic.name] ?? [];
    if (words.length === 0 && !variadic.optional) {
      throw new UsageError(`Missing argument '${variadic.name.toUpperCase()}...'.`, usage);
    }
    lists[variadic.name] = words;
    values[variadic.name] = words.length > 0 ? words.join(" ") : undefined;
  }
  return { help, values, options, lists, rest };
}

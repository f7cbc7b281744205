import { UsageError } from "./errors";
import type { ArgSpec } from "./plugin";

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
    else throw new UsageError(`No such option: ${arg}`, usage);
  }
  return { options, rest: argv.slice(i) };
}

export interface PositionalParse {
  help: boolean;
  values: Record<string, string | undefined>;
  /** What follows the declared positionals (e.g. a plugin's subcommand and its arguments). */
  rest: string[];
}

/**
 * Binds positionals to `specs`. With `stopAfterSpecs`, everything after them is handed back
 * untouched (a plugin's own args come before its subcommand); otherwise extra arguments are an error.
 * `-h/--help` is the only option a plugin or command takes; `--` ends option parsing.
 */
export function bindPositionals(
  argv: readonly string[],
  specs: readonly ArgSpec[],
  usage: string,
  stopAfterSpecs: boolean,
): PositionalParse {
  const values: Record<string, string | undefined> = {};
  const positionals: string[] = [];
  let help = false;
  let optionsEnded = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!optionsEnded && arg === "--") {
      optionsEnded = true;
      continue;
    }
    if (!optionsEnded && arg.startsWith("-") && arg !== "-") {
      if (arg === "-h" || arg === "--help") {
        help = true;
        continue;
      }
      throw new UsageError(`No such option: ${arg}`, usage);
    }
    if (stopAfterSpecs && positionals.length === specs.length) break;
    positionals.push(arg);
  }
  const rest = argv.slice(i);
  if (help) return { help, values, rest };
  if (!stopAfterSpecs && positionals.length > specs.length) {
    throw new UsageError(
      `Got unexpected extra argument (${positionals.slice(specs.length).join(" ")})`,
      usage,
    );
  }
  specs.forEach((spec, index) => {
    const value = positionals[index];
    if (value === undefined && !spec.optional) {
      throw new UsageError(`Missing argument '${spec.name.toUpperCase()}'.`, usage);
    }
    values[spec.name] = value;
  });
  return { help, values, rest };
}

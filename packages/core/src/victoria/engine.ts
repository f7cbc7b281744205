import { EXIT_TRANSIENT, type FailureClass, isTransientError } from "../failure-class";
import type { ConfiguredPolicyFactory } from "../policy/configured-policy";
import { bindPositionals, splitGlobalOptions } from "./argv";
import { type LoadedConfig, loadConfig } from "./config";
import { didYouMean } from "./did-you-mean";
import { CommandFailure, EXIT_FAILURE, EXIT_USAGE, UsageError } from "./errors";
import { commandHelp, commandUsage, pluginHelp, pluginUsage, rootHelp, rootUsage } from "./help";
import type { Output } from "./output";
import type { CommandSpec, Plugin } from "./plugin";
import { loadPluginConfig } from "./plugin-config";
import type { ProviderFactories } from "./providers";
import { createServices, type DeadLetterActionsFactory } from "./services";
import { VICTORIA_VERSION } from "./version";

export interface VictoriaOptions {
  plugins: readonly Plugin[];
  providers: ProviderFactories;
  env?: NodeJS.ProcessEnv;
  /** The `deadletter` plugin's operations; absent → those commands fail with a ConfigError (exit 1). */
  deadLetters?: DeadLetterActionsFactory;
  /**
   * The command policy `victoria policy` checks against; absent → `env`'s (VICTORIA_POLICY,
   * VICTORIA_POLICY_YAML), read anew each run and without a reader for `s3://` locations.
   */
  policy?: ConfiguredPolicyFactory;
  /**
   * `server`: the command line comes from a remote caller (`/execute`, Slack), so no argument may name
   * a file on this machine and `-c` is refused (the config is the operator's). `cli` (default): a
   * person at their own terminal, whose files are theirs to name.
   */
  mode?: "cli" | "server";
}

/** How a run ended: the exit status, and for a failure its class (whether a retry could help). */
export interface RunOutcome {
  exitCode: number;
  failureClass?: FailureClass;
}

export interface RunOptions {
  out: Output;
  /** Config file used when the command line has no `-c`; `null`/absent means the bundled default. */
  configPath?: string | null;
  /**
   * Loads the config when the command line has no `-c`, instead of `configPath`: where it lives
   * elsewhere than a file (the configuration secret, the vault bucket on AWS).
   */
  loadDefaultConfig?: () => Promise<LoadedConfig>;
  signal?: AbortSignal;
  /** Who runs the command (e.g. `slack:U123`), recorded by commands that change things; default: see `actorFromEnv`. */
  actor?: string;
}

/** `cli:` + `VICTORIA_ACTOR`, else `USER`, else `unknown`: the person at a terminal. */
export function actorFromEnv(env: NodeJS.ProcessEnv): string {
  return `cli:${env.VICTORIA_ACTOR || env.USER || "unknown"}`;
}

export interface Victoria {
  readonly plugins: readonly Plugin[];
  /**
   * Runs one command line and resolves to its exit status: 0 success, 1 failure, 2 usage error.
   * Anything other than a usage error or CommandFailure is an uncaught exception and rejects.
   */
  run(argv: readonly string[], options: RunOptions): Promise<number>;
  /** As `run`, with the failure's class: what `/execute` needs to decide on a retry. */
  execute(argv: readonly string[], options: RunOptions): Promise<RunOutcome>;
  /**
   * Whether the command this line names prints secrets (`encrypt decrypt`, `store get`), found
   * without running it; `undefined` when the line names no command (usage errors print none).
   */
  isSensitive(argv: readonly string[]): boolean | undefined;
}

/** The word that, in a command's place, means `--help` for what follows: `victoria help encrypt`. */
const HELP_WORD = "help";

/** `words` without the `help` words that lead it (`help help` is still help), unless `names` has one. */
function dropHelpWords(words: readonly string[], names: ReadonlyMap<string, unknown>) {
  let start = 0;
  while (words[start] === HELP_WORD && !names.has(HELP_WORD)) start++;
  return { help: start > 0, words: words.slice(start) };
}

/** Exit status for a failure of the given class, as the CLI reports it. */
export function exitCodeOf(failureClass: FailureClass): number {
  if (failureClass === "usage") return EXIT_USAGE;
  if (failureClass === "transient") return EXIT_TRANSIENT;
  return EXIT_FAILURE;
}

export function createVictoria({
  plugins,
  providers,
  env = process.env,
  deadLetters,
  mode = "cli",
  policy,
}: VictoriaOptions): Victoria {
  // Maps, not objects: a plugin named `__proto__` or `constructor` must not find Object.prototype.
  const byName = new Map(plugins.map((p) => [p.name, p]));
  const commandsOf = new Map(plugins.map((p) => [p, new Map(p.commands.map((c) => [c.name, c]))]));

  /** The plugin and command a line names, with their parsed arguments; help lines name none. */
  function resolve(argv: readonly string[]) {
    const { options, rest } = splitGlobalOptions(argv, rootUsage());
    if (options.configFile !== undefined && mode === "server") {
      throw new UsageError(
        "Option '-c/--config-file' is not accepted here: this server's configuration is its operator's (VICTORIA_CONFIG).",
        rootUsage(),
      );
    }
    // `help` where a command name goes asks for the help of what follows it, as `--help` does
    // (`victoria help encrypt` = `victoria encrypt --help`); a plugin or command so named wins.
    const root = dropHelpWords(rest, byName);
    let helpWord = root.help;
    const [pluginName, ...afterPlugin] = root.words;
    if (options.version || options.help || pluginName === undefined) return { options };
    const plugin = byName.get(pluginName);
    if (!plugin) {
      const hint = didYouMean(pluginName, [...byName.keys(), HELP_WORD]);
      throw new UsageError(`No such command '${pluginName}'.${hint}`, rootUsage());
    }

    // After a leading `help` the plugin's own arguments may be missing, as with `--help`.
    const ownArgv = helpWord ? ["--help", ...afterPlugin] : afterPlugin;
    const ownArgs = bindPositionals(ownArgv, plugin.pluginArgs ?? [], pluginUsage(plugin), true);
    const commands = commandsOf.get(plugin) ?? new Map<string, CommandSpec>();
    const sub = dropHelpWords(ownArgs.rest, commands);
    helpWord ||= sub.help;
    const [commandName, ...commandArgv] = sub.words;
    // An explicit `--help` before the command shows the plugin's help, as click's eager option does.
    if (commandName === undefined || (ownArgs.help && !helpWord)) return { options, plugin };
    const command = commands.get(commandName);
    if (!command) {
      const hint = didYouMean(commandName, [...commands.keys(), HELP_WORD]);
      throw new UsageError(`No such command '${commandName}'.${hint}`, pluginUsage(plugin));
    }
    if (helpWord) return { options, plugin, command };
    const usage = commandUsage(plugin, command);
    const parsed = bindPositionals(commandArgv, command.args, usage, false, command.options);
    if (parsed.help) return { options, plugin, command };
    return { options, plugin, command, ownArgs, parsed };
  }

  async function dispatch(
    argv: readonly string[],
    { out, configPath = null, loadDefaultConfig, signal, actor }: RunOptions,
  ): Promise<number> {
    const { options, plugin, command, ownArgs, parsed } = resolve(argv);
    if (options.version) {
      out.out(`victoria, version ${VICTORIA_VERSION}`);
      return 0;
    }
    if (!plugin) {
      out.out(rootHelp(plugins));
      return 0;
    }
    if (!command) {
      out.out(pluginHelp(plugin));
      return 0;
    }
    if (!parsed) {
      out.out(commandHelp(plugin, command));
      return 0;
    }

    const loaded =
      options.configFile === undefined && loadDefaultConfig
        ? await loadDefaultConfig()
        : await loadConfig(options.configFile ?? configPath);
    const services = createServices(loaded.config, providers, env, deadLetters, mode, policy);
    const pluginConfig = await loadPluginConfig(plugin, loaded.config, services);
    await command.run({
      config: loaded.config,
      configPath: loaded.path,
      pluginConfig,
      pluginArgs: ownArgs.values as Record<string, string>,
      args: parsed.values,
      lists: parsed.lists,
      options: parsed.options,
      actor: actor ?? actorFromEnv(env),
      out,
      services,
      signal: signal ?? new AbortController().signal,
    });
    return 0;
  }

  async function execute(argv: readonly string[], options: RunOptions): Promise<RunOutcome> {
    try {
      return { exitCode: await dispatch(argv, options) };
    } catch (error) {
      if (error instanceof UsageError) {
        options.out.err(error.usage);
        options.out.err("Try 'victoria --help' for help.");
        options.out.err("");
        options.out.err(`Error: ${error.message}`);
        return { exitCode: EXIT_USAGE, failureClass: "usage" };
      }
      if (error instanceof CommandFailure) {
        options.out.err(`Error: ${error.message}`);
        return { exitCode: exitCodeOf(error.failureClass), failureClass: error.failureClass };
      }
      // An SDK's network error or 5xx that no adapter worded: the caller reports it, but may retry.
      if (isTransientError(error)) {
        options.out.err(`Error: ${error instanceof Error ? error.message : String(error)}`);
        return { exitCode: EXIT_TRANSIENT, failureClass: "transient" };
      }
      throw error;
    }
  }

  return {
    plugins,
    execute,
    run: async (argv, options) => (await execute(argv, options)).exitCode,
    isSensitive(argv) {
      try {
        const { command, parsed } = resolve(argv);
        return command && parsed ? command.sensitive : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

import { bindPositionals, splitGlobalOptions } from "./argv";
import { loadConfig } from "./config";
import { CommandFailure, EXIT_FAILURE, EXIT_USAGE, UsageError } from "./errors";
import { commandHelp, commandUsage, pluginHelp, pluginUsage, rootHelp, rootUsage } from "./help";
import type { Output } from "./output";
import type { Plugin } from "./plugin";
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
}

export interface RunOptions {
  out: Output;
  /** Config file used when the command line has no `-c`; `null`/absent means the bundled default. */
  configPath?: string | null;
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
}

export function createVictoria({
  plugins,
  providers,
  env = process.env,
  deadLetters,
}: VictoriaOptions): Victoria {
  const byName = new Map(plugins.map((p) => [p.name, p]));

  async function dispatch(
    argv: readonly string[],
    { out, configPath = null, signal, actor }: RunOptions,
  ): Promise<number> {
    const { options, rest } = splitGlobalOptions(argv, rootUsage());
    if (options.version) {
      out.out(`victoria, version ${VICTORIA_VERSION}`);
      return 0;
    }
    const [pluginName, ...afterPlugin] = rest;
    if (options.help || pluginName === undefined) {
      out.out(rootHelp(plugins));
      return 0;
    }
    const plugin = byName.get(pluginName);
    if (!plugin) throw new UsageError(`No such command '${pluginName}'.`, rootUsage());

    const ownArgs = bindPositionals(afterPlugin, plugin.pluginArgs ?? [], pluginUsage(plugin), true);
    const [commandName, ...commandArgv] = ownArgs.rest;
    if (ownArgs.help || commandName === undefined) {
      out.out(pluginHelp(plugin));
      return 0;
    }
    const command = plugin.commands.find((c) => c.name === commandName);
    if (!command) throw new UsageError(`No such command '${commandName}'.`, pluginUsage(plugin));
    const usage = commandUsage(plugin, command);
    const parsed = bindPositionals(commandArgv, command.args, usage, false, command.options);
    if (parsed.help) {
      out.out(commandHelp(plugin, command));
      return 0;
    }

    const loaded = await loadConfig(options.configFile ?? configPath);
    const services = createServices(loaded.config, providers, env, deadLetters);
    const pluginConfig = await loadPluginConfig(plugin, loaded.config, services);
    await command.run({
      config: loaded.config,
      configPath: loaded.path,
      pluginConfig,
      pluginArgs: ownArgs.values as Record<string, string>,
      args: parsed.values,
      options: parsed.options,
      actor: actor ?? actorFromEnv(env),
      out,
      services,
      signal: signal ?? new AbortController().signal,
    });
    return 0;
  }

  return {
    plugins,
    async run(argv, options) {
      try {
        return await dispatch(argv, options);
      } catch (error) {
        if (error instanceof UsageError) {
          options.out.err(error.usage);
          options.out.err("Try 'victoria --help' for help.");
          options.out.err("");
          options.out.err(`Error: ${error.message}`);
          return EXIT_USAGE;
        }
        if (error instanceof CommandFailure) {
          options.out.err(`Error: ${error.message}`);
          return EXIT_FAILURE;
        }
        throw error;
      }
    },
  };
}

import type { ArgSpec, CommandSpec, OptionSpec, Plugin } from "./plugin";

const ROOT_DESCRIPTION = `V.I.C.T.O.R.I.A. — Very Important Commands for Toil Optimization: Reducing Inessential Activities.

Victoria is the SRE toolbelt -- a single command with multiple pluggable
subcommands for automating any number of 'toil' tasks that inhibit SRE
productivity.`;

function argUsage(args: readonly ArgSpec[]): string {
  return args
    .map((a) => {
      const name = a.optional ? `[${a.name.toUpperCase()}]` : a.name.toUpperCase();
      return a.variadic ? `${name}...` : name;
    })
    .join(" ");
}

/** `--state [parked|replayed]`, `--cluster CLUSTER`, `--force`: an option as click's help shows it. */
function optionLabel(option: OptionSpec): string {
  if (!option.takesValue) return `--${option.name}`;
  const metavar =
    option.metavar ?? (option.choices ? `[${option.choices.join("|")}]` : option.name.toUpperCase());
  return `--${option.name} ${metavar}`;
}

/** Aligns `name  description` rows like click's help formatter. */
function table(rows: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, description]) => `  ${name.padEnd(width)}  ${description}`);
}

export function rootUsage(): string {
  return "Usage: victoria [OPTIONS] COMMAND [ARGS]...";
}

export function rootHelp(plugins: readonly Plugin[]): string {
  return [
    rootUsage(),
    "",
    ...ROOT_DESCRIPTION.split("\n").map((line) => (line ? `  ${line}` : "")),
    "",
    "Options:",
    ...table([
      ["-c, --config-file FILE", "The config file to load."],
      ["--version", "Show the version and exit."],
      ["-h, --help", "Show this message and exit."],
    ]),
    "",
    "Commands:",
    ...table(plugins.map((p) => [p.name, p.summary] as const)),
  ].join("\n");
}

export function pluginUsage(plugin: Plugin): string {
  const own = argUsage(plugin.pluginArgs ?? []);
  return `Usage: victoria ${plugin.name} [OPTIONS] ${own ? `${own} ` : ""}COMMAND [ARGS]...`;
}

export function pluginHelp(plugin: Plugin): string {
  return [
    pluginUsage(plugin),
    "",
    `  ${plugin.summary}`,
    "",
    "Options:",
    ...table([["-h, --help", "Show this message and exit."]]),
    "",
    "Commands:",
    ...table(plugin.commands.map((c) => [c.name, c.summary] as const)),
  ].join("\n");
}

export function commandUsage(plugin: Plugin, command: CommandSpec): string {
  const own = argUsage(plugin.pluginArgs ?? []);
  const args = argUsage(command.args);
  return ["Usage: victoria", plugin.name, own, command.name, "[OPTIONS]", args].filter(Boolean).join(" ");
}

export function commandHelp(plugin: Plugin, command: CommandSpec): string {
  const lines = [commandUsage(plugin, command), "", `  ${command.summary}`];
  if (command.args.length > 0) {
    lines.push(
      "",
      "Arguments:",
      ...table(command.args.map((a) => [a.name.toUpperCase(), a.description] as const)),
    );
  }
  const options = (command.options ?? []).map((o) => [optionLabel(o), o.description] as const);
  lines.push("", "Options:", ...table([...options, ["-h, --help", "Show this message and exit."]]));
  return lines.join("\n");
}

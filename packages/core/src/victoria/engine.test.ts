import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { createVictoria } from "./engine";
import { CommandFailure } from "./errors";
import { BufferedOutput } from "./output";
import { definePlugin } from "./plugin";
import { configPlugin } from "./plugins/config";
import { corePlugins } from "./plugins/core-plugins";
import type { ProviderFactories } from "./providers";
import type { StorageProvider } from "./storage/storage-types";
import { VICTORIA_VERSION } from "./version";

/** A plugin that exercises argument binding and the failure paths of the engine. */
const probePlugin = definePlugin({
  name: "probe",
  summary: "Test plugin.",
  pluginArgs: [{ name: "target", description: "where" }],
  commands: [
    {
      name: "echo",
      summary: "Print the arguments.",
      sensitive: false,
      args: [
        { name: "first", description: "first" },
        { name: "second", description: "second", optional: true },
      ],
      async run(ctx) {
        ctx.out.out(JSON.stringify({ target: ctx.pluginArgs.target, ...ctx.args }));
      },
    },
    {
      name: "opts",
      summary: "Print the options.",
      sensitive: false,
      args: [{ name: "first", description: "first", optional: true }],
      options: [
        { name: "state", description: "Pick a state.", takesValue: true, choices: ["parked", "replayed"] },
        { name: "note", description: "Any text.", takesValue: true },
        { name: "force", description: "A flag.", takesValue: false },
      ],
      async run(ctx) {
        ctx.out.out(JSON.stringify({ args: ctx.args, options: ctx.options }));
      },
    },
    {
      name: "fail",
      summary: "Fail like a command does.",
      sensitive: false,
      args: [],
      async run() {
        throw new CommandFailure("the widget is broken");
      },
    },
    {
      name: "crash",
      summary: "Crash like a bug does.",
      sensitive: false,
      args: [],
      async run() {
        throw new TypeError("cannot read properties of undefined");
      },
    },
  ],
});

const memoryStore = new Map<string, Uint8Array>();
const providers: ProviderFactories = {
  encryption: {},
  storage: {
    memory: async (): Promise<StorageProvider> => ({
      put: async (key, data) => void memoryStore.set(key, data),
      get: async (key) => {
        const value = memoryStore.get(key);
        if (!value) throw new CommandFailure(`no such key '${key}'`);
        return value;
      },
      ls: async () => [...memoryStore.keys()].sort(),
    }),
  },
};

const victoria = createVictoria({ plugins: [configPlugin, probePlugin], providers, env: {} });

async function run(argv: string[], configPath: string | null = null) {
  const out = new BufferedOutput();
  const exitCode = await victoria.run(argv, { out, configPath });
  return { exitCode, output: out.text() };
}

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "victoria-engine-"));
  await writeFile(
    file("indent4.yaml"),
    "logging_config: {version: 1}\nplugins_config:\n  config:\n    indent: 4\nstorage_providers:\n  azure:\n    container: c\n    connection_string: AccountKey=supersecret\n",
  );
  await writeFile(file("no-logging.yaml"), "plugins_config: {}\n");
  await writeFile(file("bad-yaml.yaml"), "logging_config: [unclosed\n");
  await writeFile(
    file("bad-indent.yaml"),
    "logging_config: {}\nplugins_config:\n  config:\n    indent: 20\n",
  );
  await writeFile(
    file("located.yaml"),
    "logging_config: {}\nstorage_providers:\n  memory: {}\nplugins_config_location:\n  config: memory://config.yaml\n",
  );
});

describe("victoria command line", () => {
  it("prints its version", async () => {
    expect(await run(["--version"])).toEqual({
      exitCode: 0,
      output: `victoria, version ${VICTORIA_VERSION}\n`,
    });
  });

  it("prints generated help listing every plugin, with and without -h", async () => {
    for (const argv of [[], ["-h"], ["--help"]]) {
      const { exitCode, output } = await run(argv);
      expect(exitCode).toBe(0);
      expect(output).toContain("Usage: victoria [OPTIONS] COMMAND [ARGS]...");
      expect(output).toMatch(/-c, --config-file FILE\s+The config file to load\./);
      expect(output).toMatch(/\n {2}config\s+Print the loaded config/);
      expect(output).toMatch(/\n {2}probe\s+Test plugin\./);
    }
  });

  it("prints plugin and command help", async () => {
    const plugin = await run(["config", "--help"]);
    expect(plugin.exitCode).toBe(0);
    expect(plugin.output).toContain("Usage: victoria config [OPTIONS] COMMAND [ARGS]...");
    expect(plugin.output).toMatch(/path\s+Print the path/);
    const command = await run(["probe", "here", "echo", "-h"]);
    expect(command.exitCode).toBe(0);
    expect(command.output).toContain("Usage: victoria probe TARGET echo [OPTIONS] FIRST [SECOND]");
  });

  it.each([
    [["nope"], "No such command 'nope'.", "Usage: victoria [OPTIONS] COMMAND [ARGS]..."],
    [["config", "nope"], "No such command 'nope'.", "Usage: victoria config [OPTIONS] COMMAND"],
    [["--bogus", "config", "view"], "No such option: --bogus", "Usage: victoria [OPTIONS]"],
    [["config", "view", "--bogus"], "No such option: --bogus", "Usage: victoria config view"],
    [["config", "view", "extra"], "Got unexpected extra argument (extra)", "Usage: victoria config view"],
    [["probe", "here", "echo"], "Missing argument 'FIRST'.", "Usage: victoria probe TARGET echo"],
    [["-c"], "Option '-c' requires an argument.", "Usage: victoria [OPTIONS]"],
  ])("%j is a usage error (exit 2)", async (argv, message, usage) => {
    const { exitCode, output } = await run(argv);
    expect(exitCode).toBe(2);
    expect(output).toContain(usage);
    expect(output).toContain(`Error: ${message}`);
  });

  it("binds plugin and command positionals, optional ones and `--`", async () => {
    expect((await run(["probe", "east", "echo", "a"])).output).toBe('{"target":"east","first":"a"}\n');
    expect((await run(["probe", "east", "echo", "a", "b"])).output).toBe(
      '{"target":"east","first":"a","second":"b"}\n',
    );
    expect((await run(["probe", "east", "echo", "--", "-not-an-option"])).output).toBe(
      '{"target":"east","first":"-not-an-option"}\n',
    );
  });

  it("turns a CommandFailure into exit 1 with its message and lets bugs through", async () => {
    expect(await run(["probe", "x", "fail"])).toEqual({
      exitCode: 1,
      output: "Error: the widget is broken\n",
    });
    await expect(run(["probe", "x", "crash"])).rejects.toThrow(TypeError);
  });
});

describe("config plugin and victoria.yaml", () => {
  it("`config view` dumps the bundled default as YAML with the default indent", async () => {
    const { exitCode, output } = await run(["config", "view"]);
    expect(exitCode).toBe(0);
    const parsed = parseYaml(output) as Record<string, unknown>;
    expect(parsed.plugins_config).toEqual({ config: { indent: 2 } });
    expect(parsed.encryption_provider).toBeNull();
    expect(output).toMatch(/^plugins_config:\n {2}config:\n {4}indent: 2$/m);
  });

  it("`config view` honours the plugin's indent and masks credentials", async () => {
    const { exitCode, output } = await run(["-c", file("indent4.yaml"), "config", "view"]);
    expect(exitCode).toBe(0);
    expect(output).toMatch(/^plugins_config:\n {4}config:\n {8}indent: 4$/m);
    expect(output).toContain("connection_string: <masked>");
    expect(output).not.toContain("supersecret");
  });

  it("`config path` names the file in use, from -c or from the caller's default", async () => {
    expect((await run(["--config-file", file("indent4.yaml"), "config", "path"])).output).toBe(
      `${file("indent4.yaml")}\n`,
    );
    expect((await run(["config", "path"], file("indent4.yaml"))).output).toBe(`${file("indent4.yaml")}\n`);
    expect((await run(["config", "path"])).output).toContain("bundled default");
  });

  it.each([
    ["missing.yaml", "Error opening config file '{file}': no such file"],
    ["no-logging.yaml", "Config file '{file}' is invalid: logging_config is missing (expected a mapping"],
    ["bad-yaml.yaml", "Error in config file '{file}': invalid YAML"],
    ["bad-indent.yaml", "Error validating config 'plugins_config.config': indent:"],
  ])("%s fails with exit 1 naming the file and field", async (name, expected) => {
    const { exitCode, output } = await run(["-c", file(name), "config", "view"]);
    expect(exitCode).toBe(1);
    expect(output).toContain(expected.replace("{file}", file(name)));
  });

  it("reads a plugin's config from plugins_config_location through a storage provider", async () => {
    memoryStore.set("config.yaml", Buffer.from("indent: 6\n"));
    const { exitCode, output } = await run(["-c", file("located.yaml"), "config", "view"]);
    expect(exitCode).toBe(0);
    expect(output).toMatch(/^storage_providers:\n {6}memory: \{\}$/m);
    memoryStore.delete("config.yaml");
    const missing = await run(["-c", file("located.yaml"), "config", "view"]);
    expect(missing).toEqual({ exitCode: 1, output: "Error: no such key 'config.yaml'\n" });
  });

  it("names an unknown storage provider", async () => {
    await writeFile(
      file("unknown-store.yaml"),
      "logging_config: {}\nplugins_config_location:\n  config: s9://x\n",
    );
    const { exitCode, output } = await run(["-c", file("unknown-store.yaml"), "config", "view"]);
    expect(exitCode).toBe(1);
    expect(output).toContain("No configuration for storage provider 's9'");
  });
});

describe("command options", () => {
  const opts = async (...argv: string[]) => {
    const { exitCode, output } = await run(["probe", "x", "opts", ...argv]);
    return exitCode === 0 ? JSON.parse(output) : { exitCode, output };
  };

  it("defaults valued options to undefined and flags to false", async () => {
    expect(await opts()).toEqual({ args: {}, options: { force: false } });
  });

  it("reads `--name VALUE`, `--name=VALUE` and flags, before or after positionals", async () => {
    expect(await opts("--state", "parked", "a", "--force", "--note=with = sign")).toEqual({
      args: { first: "a" },
      options: { state: "parked", note: "with = sign", force: true },
    });
    expect(await opts("--note", "-looks-like-an-option", "--note=")).toEqual({
      args: {},
      options: { note: "", force: false },
    });
    expect((await opts("--note", "one", "--note", "two")).options.note).toBe("two");
  });

  it("lets `--` end options", async () => {
    expect(await opts("--", "--force")).toEqual({ args: { first: "--force" }, options: { force: false } });
  });

  it.each([
    [["--bogus"], "No such option: --bogus"],
    [["--bogus=1"], "No such option: --bogus"],
    [["-f"], "No such option: -f"],
    [["--state"], "Option '--state' requires an argument."],
    [["--force=yes"], "Option '--force' does not take a value."],
    [["--state", "gone"], "Invalid value for '--state': 'gone' is not one of 'parked', 'replayed'."],
    [["a", "b"], "Got unexpected extra argument (b)"],
  ])("%j is a usage error (exit 2)", async (argv, message) => {
    const { exitCode, output } = await run(["probe", "x", "opts", ...argv]);
    expect(exitCode).toBe(2);
    expect(output).toContain("Usage: victoria probe TARGET opts [OPTIONS] [FIRST]");
    expect(output).toContain(`Error: ${message}`);
  });

  it("shows help even when a choice is wrong, as click's eager --help does", async () => {
    const { exitCode, output } = await run(["probe", "x", "opts", "--state", "gone", "--help"]);
    expect(exitCode).toBe(0);
    expect(output).toContain("Usage: victoria probe TARGET opts [OPTIONS] [FIRST]");
  });

  it("lists a command's options in its help, aligned, before -h/--help", async () => {
    const { exitCode, output } = await run(["probe", "x", "opts", "--help"]);
    expect(exitCode).toBe(0);
    expect(output).toContain(
      [
        "Options:",
        "  --state [parked|replayed]  Pick a state.",
        "  --note NOTE                Any text.",
        "  --force                    A flag.",
        "  -h, --help                 Show this message and exit.",
      ].join("\n"),
    );
  });

  it("still refuses options on commands that declare none", async () => {
    const { exitCode, output } = await run(["probe", "x", "echo", "a", "--state", "parked"]);
    expect(exitCode).toBe(2);
    expect(output).toContain("Error: No such option: --state");
  });
});

describe("the actor and the deadLetters service", () => {
  const whoPlugin = definePlugin({
    name: "who",
    summary: "Test plugin.",
    commands: [
      {
        name: "am-i",
        summary: "Print the actor.",
        sensitive: false,
        args: [],
        async run(ctx) {
          ctx.out.out(ctx.actor ?? "(none)");
        },
      },
      {
        name: "dl",
        summary: "Touch the dead-letter service.",
        sensitive: false,
        args: [],
        async run(ctx) {
          const actions = await ctx.services.deadLetters?.();
          ctx.out.out(String((await actions?.list())?.length));
        },
      },
    ],
  });
  const runWith = async (env: NodeJS.ProcessEnv, argv: string[], actor?: string) => {
    const out = new BufferedOutput();
    const engine = createVictoria({ plugins: [whoPlugin], providers, env });
    return { exitCode: await engine.run(argv, { out, actor }), output: out.text() };
  };

  it("is cli: + VICTORIA_ACTOR, else USER, else unknown, unless the caller names one", async () => {
    expect((await runWith({ VICTORIA_ACTOR: "alice", USER: "root" }, ["who", "am-i"])).output).toBe(
      "cli:alice\n",
    );
    expect((await runWith({ USER: "bob" }, ["who", "am-i"])).output).toBe("cli:bob\n");
    expect((await runWith({}, ["who", "am-i"])).output).toBe("cli:unknown\n");
    expect((await runWith({ USER: "bob" }, ["who", "am-i"], "slack:U0MEMBER")).output).toBe(
      "slack:U0MEMBER\n",
    );
  });

  it("fails with exit 1 where no dead-letter operations were given", async () => {
    expect(await runWith({}, ["who", "dl"])).toEqual({
      exitCode: 1,
      output:
        "Error: dead-letter operations are not available here: the vault and Service Bus are not configured\n",
    });
  });
});

describe("server mode (a remote caller: /execute, Slack)", () => {
  const server = createVictoria({ plugins: [configPlugin, probePlugin], providers, env: {}, mode: "server" });

  async function runRemote(argv: string[]) {
    const out = new BufferedOutput();
    const outcome = await server.execute(argv, { out, configPath: null });
    return { ...outcome, output: out.text() };
  }

  it("refuses -c and --config-file as a usage error naming why", async () => {
    for (const argv of [
      ["-c", "/etc/passwd", "config", "view"],
      ["--config-file=/proc/self/environ", "config", "view"],
      ["-c/dev/zero", "config", "view"],
    ]) {
      const result = await runRemote(argv);
      expect(result).toMatchObject({ exitCode: 2, failureClass: "usage" });
      expect(result.output).toContain("Option '-c/--config-file' is not accepted here");
    }
  });

  it("refuses a command's file argument through the services, as a usage error", async () => {
    const reader = definePlugin({
      name: "reader",
      summary: "Reads a file.",
      commands: [
        {
          name: "cat",
          summary: "Print FILE.",
          sensitive: true,
          args: [{ name: "file", description: "A file." }],
          async run(ctx) {
            ctx.out.out(Buffer.from(await ctx.services.localFile(ctx.args.file ?? "", "FILE")).toString());
          },
        },
      ],
    });
    const remote = createVictoria({ plugins: [reader], providers, env: {}, mode: "server" });
    const out = new BufferedOutput();
    const outcome = await remote.execute(["reader", "cat", "/etc/passwd"], { out, configPath: null });
    expect(outcome).toEqual({ exitCode: 2, failureClass: "usage" });
    expect(out.text()).toContain("FILE would name a file on the server");
    expect(out.text()).not.toContain("root:");
    // At a terminal the same command reads the file: it is the user's own machine.
    const local = createVictoria({ plugins: [reader], providers, env: {} });
    const localOut = new BufferedOutput();
    expect(await local.run(["reader", "cat", "/etc/passwd"], { out: localOut, configPath: null })).toBe(0);
    expect(localOut.text()).toContain("root:");
  });

  it("says which commands are sensitive without running them", () => {
    expect(server.isSensitive(["config", "view"])).toBe(false);
    expect(server.isSensitive(["nope"])).toBeUndefined();
    expect(server.isSensitive(["--version"])).toBeUndefined();
  });

  it("finds no plugin or command through inherited property names", async () => {
    for (const argv of [
      ["__proto__", "x"],
      ["constructor"],
      ["config", "toString"],
      ["config", "__proto__"],
    ]) {
      const result = await runRemote(argv);
      expect(result, argv.join(" ")).toMatchObject({ exitCode: 2, failureClass: "usage" });
    }
  });
});

describe("bounded reads", () => {
  it("reads at most 1 MiB of a config file, whatever it is (-c /dev/zero at a terminal)", async () => {
    const result = await run(["-c", "/dev/zero", "config", "view"]);
    expect(result.exitCode).toBe(1);
    expect(result.output).toBe(
      "Error: Error opening config file '/dev/zero': '/dev/zero' is larger than 1,048,576 bytes\n",
    );
  });

  it("classifies failures: 1 for what a retry cannot fix, 75 for transient, 2 for usage", async () => {
    const out = new BufferedOutput();
    expect(await victoria.execute(["probe", "x", "fail"], { out, configPath: null })).toEqual({
      exitCode: 1,
      failureClass: "invalid",
    });
    expect(await victoria.execute(["probe", "x", "nope"], { out, configPath: null })).toEqual({
      exitCode: 2,
      failureClass: "usage",
    });
  });
});

describe("`help` in a command's place, as `--help`", () => {
  it.each([
    [["help"], ["--help"]],
    [["help", "help"], ["--help"]],
    [
      ["help", "config"],
      ["config", "--help"],
    ],
    [
      ["config", "help"],
      ["config", "--help"],
    ],
    [
      ["help", "config", "view"],
      ["config", "view", "--help"],
    ],
    [
      ["config", "help", "view"],
      ["config", "view", "--help"],
    ],
    [
      ["help", "probe"],
      ["probe", "--help"],
    ],
    [
      ["probe", "x", "help"],
      ["probe", "x", "--help"],
    ],
    [
      ["help", "probe", "x", "echo"],
      ["probe", "x", "echo", "--help"],
    ],
    [
      ["probe", "x", "help", "echo"],
      ["probe", "x", "echo", "--help"],
    ],
  ])("%j prints what %j prints", async (alias, flag) => {
    const expected = await run(flag);
    expect(expected.exitCode).toBe(0);
    expect(expected.output).toContain("Usage: victoria");
    expect(await run(alias)).toEqual(expected);
  });

  it("leaves an argument whose value is `help` alone", async () => {
    expect(await run(["probe", "x", "echo", "help"])).toEqual({
      exitCode: 0,
      output: '{"target":"x","first":"help"}\n',
    });
    expect((await run(["probe", "x", "echo", "a", "help"])).output).toBe(
      '{"target":"x","first":"a","second":"help"}\n',
    );
    // The plugin's own argument comes before the command's place.
    expect((await run(["probe", "help", "echo", "a"])).output).toBe('{"target":"help","first":"a"}\n');
    expect(JSON.parse((await run(["probe", "x", "opts", "--note", "help"])).output)).toEqual({
      args: {},
      options: { note: "help", force: false },
    });
    const extra = await run(["config", "view", "help"]);
    expect(extra.exitCode).toBe(2);
    expect(extra.output).toContain("Error: Got unexpected extra argument (help)");
  });

  it("runs a plugin or command that is itself named `help`", async () => {
    const helpful = definePlugin({
      name: "help",
      summary: "A plugin named help.",
      commands: [
        {
          name: "help",
          summary: "A command named help.",
          sensitive: false,
          args: [],
          async run(ctx) {
            ctx.out.out("the help command ran");
          },
        },
      ],
    });
    const engine = createVictoria({ plugins: [helpful], providers, env: {} });
    const out = new BufferedOutput();
    expect(await engine.run(["help", "help"], { out, configPath: null })).toBe(0);
    expect(out.text()).toBe("the help command ran\n");
  });

  it("still names an unknown command after `help`", async () => {
    const { exitCode, output } = await run(["help", "confg"]);
    expect(exitCode).toBe(2);
    expect(output).toContain("Error: No such command 'confg'. Did you mean 'config'?");
  });
});

describe("did-you-mean suggestions (usage errors, exit 2)", () => {
  it.each([
    [["confg", "view"], "No such command 'confg'. Did you mean 'config'?", "Usage: victoria [OPTIONS]"],
    [["hlep"], "No such command 'hlep'. Did you mean 'help'?", "Usage: victoria [OPTIONS]"],
    [["config", "veiw"], "No such command 'veiw'. Did you mean 'view'?", "Usage: victoria config [OPTIONS]"],
    [["probe", "x", "ech", "a"], "No such command 'ech'. Did you mean 'echo'?", "Usage: victoria probe"],
    [["--verison"], "No such option: --verison. Did you mean '--version'?", "Usage: victoria [OPTIONS]"],
    [["--config"], "No such option: --config. Did you mean '--config-file'?", "Usage: victoria [OPTIONS]"],
    [["probe", "x", "opts", "--stat", "parked"], "No such option: --stat. Did you mean '--state'?", "opts"],
    [["probe", "x", "opts", "--frce"], "No such option: --frce. Did you mean '--force'?", "opts"],
    [["probe", "x", "opts", "--nte=a"], "No such option: --nte. Did you mean '--note'?", "opts"],
    [["config", "view", "--hepl"], "No such option: --hepl. Did you mean '--help'?", "config view"],
  ])("%j", async (argv, message, usage) => {
    const { exitCode, output } = await run(argv);
    expect(exitCode).toBe(2);
    expect(output).toContain(usage);
    expect(output).toContain(`\nError: ${message}\n`);
  });

  it.each([
    [["nope"], "No such command 'nope'."],
    [["config", "nope"], "No such command 'nope'."],
    [["probe", "x", "opts", "--bogus"], "No such option: --bogus"],
    [["-x"], "No such option: -x"],
  ])("suggests nothing when nothing is close: %j", async (argv, message) => {
    const { exitCode, output } = await run(argv);
    expect(exitCode).toBe(2);
    expect(output).toMatch(new RegExp(`\\nError: ${message.replace(/[.]/g, "\\.")}\\n$`));
    expect(output).not.toContain("Did you mean");
  });
});

describe("the core plugins' help and suggestions", () => {
  const core = createVictoria({ plugins: corePlugins, providers, env: {}, mode: "server" });
  const runCore = async (argv: string[]) => {
    const out = new BufferedOutput();
    const outcome = await core.execute(argv, { out, configPath: null });
    return { ...outcome, output: out.text() };
  };

  it.each([
    [
      ["help", "encrypt"],
      ["encrypt", "--help"],
    ],
    [
      ["encrypt", "help"],
      ["encrypt", "--help"],
    ],
    [
      ["deadletter", "help"],
      ["deadletter", "--help"],
    ],
    [
      ["store", "local", "help"],
      ["store", "local", "--help"],
    ],
  ])("%j prints what %j prints", async (alias, flag) => {
    const expected = await runCore(flag);
    expect(expected).toMatchObject({ exitCode: 0 });
    expect(await runCore(alias)).toEqual(expected);
  });

  it("takes `help` as a value where one is expected: the command runs, no help is shown", () => {
    expect(core.isSensitive(["encrypt", "data", "help"])).toBe(true);
    expect(core.isSensitive(["store", "local", "put", "--data", "help", "KEY"])).toBe(false);
    expect(core.isSensitive(["deadletter", "show", "help"])).toBe(false);
    // Help lines name no command to run.
    expect(core.isSensitive(["encrypt", "help"])).toBeUndefined();
    expect(core.isSensitive(["help", "encrypt", "data"])).toBeUndefined();
  });

  it.each([
    [["deadletter", "shw", "abc"], "No such command 'shw'. Did you mean 'show'?"],
    [["deadletter", "ls", "--stat", "parked"], "No such option: --stat. Did you mean '--state'?"],
    [["encrypt", "dat", "x"], "No such command 'dat'. Did you mean 'data'?"],
    [["dedletter", "ls"], "No such command 'dedletter'. Did you mean 'deadletter'?"],
  ])("%j", async (argv, message) => {
    const result = await runCore(argv);
    expect(result).toMatchObject({ exitCode: 2, failureClass: "usage" });
    expect(result.output).toContain(`Error: ${message}`);
  });
});

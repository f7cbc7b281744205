#!/usr/bin/env node
// The `victoria` command line: the same engine `/execute` runs, printing to the terminal.
import { EXIT_TRANSIENT, isTransientError } from "../failure-class";
import { defaultProviders } from "./default-providers";
import { createVictoria } from "./engine";
import { processOutput } from "./output";
import { corePlugins } from "./plugins/core-plugins";

const victoria = createVictoria({
  plugins: corePlugins,
  providers: defaultProviders,
  // Set by /execute for the child it starts: the command line is a remote caller's.
  mode: process.env.VICTORIA_SERVER_MODE === "1" ? "server" : "cli",
  deadLetters: async () =>
    (await import("../deadletter/dead-letter-actions-from-env")).createDeadLetterActionsFromEnv(process.env),
});
try {
  process.exitCode = await victoria.run(process.argv.slice(2), {
    out: processOutput,
    configPath: process.env.VICTORIA_CONFIG || null,
  });
} catch (error) {
  process.stderr.write(
    `Error: uncaught exception: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  // A thrown SDK error that no adapter worded may still be a network blip.
  process.exitCode = isTransientError(error) ? EXIT_TRANSIENT : 1;
}

#!/usr/bin/env node
// The `victoria` command line: the same engine `/execute` runs, printing to the terminal.
import { EXIT_TRANSIENT, isTransientError } from "../failure-class";
import { defaultProviders } from "./default-providers";
import { createVictoria } from "./engine";
import { processOutput } from "./output";
import { corePlugins } from "./plugins/core-plugins";

// Set by /execute for the child it starts: the command line is a remote caller's.
const mode = process.env.VICTORIA_SERVER_MODE === "1" ? "server" : "cli";
let closeDeadLetters: (() => Promise<void>) | undefined;
const victoria = createVictoria({
  plugins: corePlugins,
  providers: defaultProviders,
  mode,
  // At a terminal, also what a running `npm start` hands over (its embedded broker, Slack, SMTP).
  deadLetters: async () => {
    const { createCliDeadLetterActions } = await import("../deadletter/dead-letter-actions-from-env");
    const { actions, close } = await createCliDeadLetterActions(process.env, mode);
    closeDeadLetters = close;
    return actions;
  },
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
} finally {
  await closeDeadLetters?.();
}

import { createProcessRunner } from "@victoria/core/adapters/local/process-runner";
import type { DeadLetterActions } from "@victoria/core/deadletter/dead-letter-actions-types";
import { lazyPort } from "@victoria/core/lazy-port";
import type { CommandRunner } from "@victoria/core/ports";
import type { ExecuteSettings } from "./settings";

/** `VICTORIA_BIN` set → that executable; otherwise the TypeScript engine in this process. */
export function createCommandRunner(
  settings: ExecuteSettings,
  env: NodeJS.ProcessEnv = process.env,
  /** Backs `victoria deadletter …`; without it those commands say they are not available here. */
  deadLetters?: () => Promise<DeadLetterActions>,
): CommandRunner {
  if (settings.victoriaBin) {
    const childEnv = { ...env };
    // The child needs its config, not our secrets.
    for (const name of [
      "VICTORIA_SHARED_SECRET",
      "SLACK_SIGNING_SECRET",
      "SLACK_BOT_TOKEN",
      "LISTENER_TOKEN",
    ]) {
      delete childEnv[name];
    }
    return createProcessRunner({ bin: settings.victoriaBin, timeoutMs: settings.timeoutMs, env: childEnv });
  }
  // The engine, its plugins and `yaml` load with the first command, not at start.
  return lazyPort<CommandRunner>({ run: true }, async () => {
    const [{ createVictoria }, { defaultProviders }, { corePlugins }, { createInProcessRunner }] =
      await Promise.all([
        import("@victoria/core/victoria/engine"),
        import("@victoria/core/victoria/default-providers"),
        import("@victoria/core/victoria/plugins/core-plugins"),
        import("@victoria/core/victoria/in-process-runner"),
      ]);
    const victoria = createVictoria({
      plugins: corePlugins,
      providers: defaultProviders,
      env,
      ...(deadLetters ? { deadLetters } : {}),
    });
    return createInProcessRunner({
      victoria,
      configPath: settings.configPath,
      timeoutMs: settings.timeoutMs,
    });
  });
}

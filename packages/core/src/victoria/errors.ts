import type { FailureClass } from "../failure-class";

/** Exit status for a usage error (unknown plugin, command or option; missing argument), as click did. */
export const EXIT_USAGE = 2;
/** Exit status for a command that ran and failed. */
export const EXIT_FAILURE = 1;

/** The command line was wrong; the CLI prints usage and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(
    message: string,
    /** Usage text of the command the user was reaching for. */
    readonly usage: string,
  ) {
    super(message);
  }
}

/**
 * A command failed for a reason the user can act on; printed as `Error: <message>`, exit 1 (75 when
 * `failureClass` is `transient`). The class decides whether `/execute` queues it for retry.
 */
export class CommandFailure extends Error {
  override readonly name: string = "CommandFailure";
  readonly failureClass: FailureClass;
  constructor(message: string, options: { failureClass?: FailureClass; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.failureClass = options.failureClass ?? "invalid";
  }
}

/** `victoria.yaml` (or a plugin's section of it) is missing, unreadable or invalid. */
export class ConfigError extends CommandFailure {
  override readonly name = "ConfigError";
  constructor(message: string) {
    super(message, { failureClass: "configuration" });
  }
}

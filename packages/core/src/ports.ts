/** Exit status reported when a command runs out of its time budget (as `timeout(1)` does). */
export const EXIT_TIMEOUT = 124;

/** The outcome of one Victoria command line. */
export interface CommandResult {
  /** 0 success, 1 failure, 2 usage error; 124 when the time budget ran out. */
  exitCode: number;
  /** Everything the command printed, stdout and stderr interleaved. */
  output: string;
}

/**
 * Runs Victoria command lines: in-process with the TypeScript engine, or an external `victoria` binary.
 * Rejects only for an uncaught exception (the engine crashed, the binary could not start).
 */
export interface CommandRunner {
  run(args: readonly string[]): Promise<CommandResult>;
}

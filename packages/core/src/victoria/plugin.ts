import type { DeadLetterActions } from "../deadletter/dead-letter-actions-types";
import type { ConfiguredPolicy } from "../policy/configured-policy";
import type { AuditTrail } from "../security/audit-trail";
import type * as z from "../validation/zod";
import type { VictoriaConfig } from "./config";
import type { EncryptionProvider } from "./encryption/envelope-types";
import type { Output } from "./output";
import type { StorageProvider } from "./storage/storage-types";

/** A positional argument of a command (or of a plugin, like `store <provider>`). */
export interface ArgSpec {
  name: string;
  description: string;
  optional?: boolean;
  /**
   * The last argument of a command only: takes every remaining word as typed, options among them
   * (`policy check WHO WHERE deadletter ls --state parked`), as a command line it holds. Its words are
   * in `CommandContext.lists`; `args` has them joined by spaces.
   */
  variadic?: boolean;
}

/**
 * A `--name` option of a command. With `takesValue`, `--name VALUE` or `--name=VALUE` (the last
 * one given wins; `choices` limits the values); without, a boolean flag.
 */
export interface OptionSpec {
  name: string;
  description: string;
  takesValue: boolean;
  choices?: readonly string[];
  /**
   * May be given more than once (`--where a=1 --where b=2`), as click's `multiple=True`: every value,
   * in order, is in `CommandContext.lists` under the option's name; `options` has the last one.
   */
  repeatable?: boolean;
  /** The value's placeholder in help (default: `NAME`, or the choices as `[a|b]`). */
  metavar?: string;
}

/** What the engine gives a running command. */
export interface CommandContext<C = unknown> {
  /** The validated core config. */
  config: VictoriaConfig;
  /** Where the core config came from: a file path, or `null` for the bundled default. */
  configPath: string | null;
  /** The plugin's own section, validated with its schema (or `undefined` without one). */
  pluginConfig: C;
  /** Values of the plugin's own positionals (e.g. `provider` for `store <provider> ls`). */
  pluginArgs: Record<string, string>;
  /** Values of the command's positionals; optional ones may be missing. */
  args: Record<string, string | undefined>;
  /** The words of a variadic argument, by its name (empty when an optional one was left out). */
  lists?: Record<string, readonly string[]>;
  /**
   * Values of the command's declared options: a string or `undefined` for an option that takes a
   * value, `true`/`false` for a flag. The engine always sets it; it is optional only so contexts
   * built by hand (plugin unit tests) need not.
   */
  options?: Record<string, string | boolean | undefined>;
  /**
   * Who is running the command, for audit trails (`resolution.by` of a dead letter): the caller's
   * `RunOptions.actor`, else `cli:` + `VICTORIA_ACTOR` || `USER` || `unknown` from the engine's
   * env. Always set by the engine; optional for hand-built contexts.
   */
  actor?: string;
  out: Output;
  services: VictoriaServices;
  /** Aborted when the command's time budget runs out. */
  signal: AbortSignal;
}

export interface CommandSpec<C = unknown> {
  name: string;
  summary: string;
  args: ArgSpec[];
  /** `--name` options, listed in the command's help and parsed wherever they appear. */
  options?: OptionSpec[];
  /**
   * Whether its output can reveal a secret (a decrypted value, a stored file) or its command line
   * holds one (`encrypt data <plaintext>`). Sensitive output goes to the requester only, never to
   * a channel or thread, and the audit keeps its digest and length, not the text. Every command
   * must say.
   */
  sensitive: boolean;
  /** Throw CommandFailure (exit 1) for a failure the user can act on. */
  run(ctx: CommandContext<C>): Promise<void>;
}

export interface Plugin<C = unknown> {
  name: string;
  summary: string;
  /** Validates `plugins_config.<name>` (or the file named in `plugins_config_location`). */
  configSchema?: z.ZodMiniType<C>;
  pluginArgs?: ArgSpec[];
  commands: CommandSpec<C>[];
}

/** Lets a plugin be declared with its config type inferred, and stored in a list of mixed plugins. */
export function definePlugin<C>(plugin: Plugin<C>): Plugin<unknown> {
  return plugin as Plugin<unknown>;
}

/** Providers built from the core config on demand (and only once per run). */
export interface VictoriaServices {
  /**
   * Reads a file of this machine named on the command line (at most MAX_READ_BYTES). In server mode
   * (a remote caller) no argument may name a server file: it fails as a usage error naming
   * `argument`, so commands offer another way in (`--data`, `--store`, `--envelope`).
   */
  localFile(path: string, argument: string): Promise<Uint8Array>;
  encryption(): Promise<EncryptionProvider>;
  storage(name: string): Promise<StorageProvider>;
  /**
   * The dead-letter operations (vault + Service Bus), when this deployment has them; calling it
   * where it has not fails with a ConfigError. `createServices` always provides it; it is optional
   * only so services built by hand (plugin unit tests) need not.
   */
  deadLetters?(): Promise<DeadLetterActions>;
  /**
   * The command policy this deployment enforces (VICTORIA_POLICY…) and its group look-ups, for
   * `victoria policy`; rejects when the configured policy is invalid or cannot be read. Always
   * provided by `createServices`; optional for hand-built services.
   */
  policy?(): Promise<ConfiguredPolicy>;
  /**
   * The audit trail, for `victoria audit show`: AUDIT_BUCKET or AUDIT_LOG_FILE; rejects with a
   * ConfigError for a remote caller where the trail is the bucket (the functions may only append).
   * Always provided by `createServices`; optional for hand-built services.
   */
  auditTrail?(): Promise<AuditTrail>;
}

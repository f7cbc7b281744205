import { parse as parseYaml, YAMLError } from "yaml";
import * as z from "../validation/zod";
import { orDefault } from "../validation/zod";
import { fileErrorReason, readFileBounded } from "./bounded-file";
import { DEFAULT_CONFIG_YAML } from "./default-config";
import { CommandFailure, ConfigError } from "./errors";

const providerSection = z.record(z.string(), z.unknown());

/** `victoria.yaml`, as the Python Victoria defined it. Unknown top-level keys are ignored, as there. */
export const victoriaConfigSchema = z.object({
  logging_config: z.record(z.string(), z.unknown()),
  encryption_provider: z.pipe(
    z.nullish(
      z.object({
        provider: z.string().check(z.minLength(1)),
        config: orDefault(providerSection, () => ({})),
      }),
    ),
    z.transform((provider) => provider ?? null),
  ),
  storage_providers: orDefault(z.record(z.string(), providerSection), () => ({})),
  plugins_config: orDefault(z.record(z.string(), z.unknown()), () => ({})),
  plugins_config_location: orDefault(z.record(z.string(), z.string()), () => ({})),
});

export type VictoriaConfig = z.output<typeof victoriaConfigSchema>;

export interface LoadedConfig {
  config: VictoriaConfig;
  /** The file it came from, or `null` for the bundled default. */
  path: string | null;
}

/** Parses and validates config text; `source` names it in errors (a path, or "bundled default"). */
export function parseConfig(text: string, source: string): VictoriaConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    // Position and code only: the parser's message quotes the file, which holds credentials.
    const where = error instanceof YAMLError && error.linePos ? ` at line ${error.linePos[0].line}` : "";
    const code = error instanceof YAMLError ? ` (${error.code})` : "";
    throw new ConfigError(`Error in config file '${source}': invalid YAML${where}${code}`);
  }
  const result = victoriaConfigSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new ConfigError(
      `Config file '${source}' is invalid: ${describeConfigIssues(raw ?? {}, result.error)}`,
    );
  }
  return result.data;
}

/**
 * What a field of `victoria.yaml` must be, in words a user can act on: the validator's own text
 * ("expected record, received undefined") speaks zod, not YAML.
 */
function expectedAt(path: readonly string[]): string {
  const [section, name, field] = path;
  switch (section) {
    case undefined:
      return "a mapping of settings: logging_config, encryption_provider, storage_providers, plugins_config";
    case "logging_config":
      return "a mapping for Python's logging dictConfig, e.g. 'logging_config: {version: 1}'";
    case "encryption_provider":
      if (name === undefined) return "a mapping {provider, config}, or null for none";
      if (name === "provider") return "the provider's name, e.g. local or azure";
      return "a mapping of the provider's settings, e.g. {key_file: victoria-key.pem} for local";
    case "storage_providers":
      return name === undefined
        ? "a mapping of provider name (local, s3, azure) to its settings"
        : "a mapping of that provider's settings, e.g. {container: .victoria/store} for local";
    case "plugins_config":
      return "a mapping of plugin name to its settings";
    case "plugins_config_location":
      return name === undefined || field !== undefined
        ? "a mapping of plugin name to '<storage provider>://<key>'"
        : "text: '<storage provider>://<key>'";
    default:
      return "something else";
  }
}

/** What was found, by kind only: the value itself may be a credential and must not be echoed. */
function foundKind(value: unknown): string {
  if (value === undefined) return "is missing";
  if (value === null || value === "") return "is empty";
  if (Array.isArray(value)) return "is a list";
  if (typeof value === "object") return "is a mapping";
  if (typeof value === "string") return "is text";
  if (typeof value === "boolean") return "is true/false";
  return `is a ${typeof value}`;
}

/** One clause per offending field: `storage_providers.local is a list (expected …)`. */
function describeConfigIssues(
  raw: unknown,
  error: { issues: ReadonlyArray<{ path: PropertyKey[] }> },
): string {
  const seen = new Set<string>();
  const clauses: string[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String);
    const name = path.length === 0 ? "the file" : path.join(".");
    if (seen.has(name)) continue;
    seen.add(name);
    let value: unknown = raw;
    for (const key of path) {
      value =
        typeof value === "object" && value !== null && Object.hasOwn(value, key)
          ? (value as Record<string, unknown>)[key]
          : undefined;
    }
    clauses.push(`${name} ${foundKind(value)} (expected ${expectedAt(path)})`);
  }
  return clauses.join("; ");
}

/** Loads `victoria.yaml` from `path`, or the bundled default when `path` is null. */
export async function loadConfig(path: string | null): Promise<LoadedConfig> {
  if (path === null) return { config: parseConfig(DEFAULT_CONFIG_YAML, "bundled default"), path: null };
  let text: string;
  try {
    text = (await readFileBounded(path)).toString("utf8");
  } catch (error) {
    const reason = error instanceof CommandFailure ? error.message : fileErrorReason(error);
    throw new ConfigError(`Error opening config file '${path}': ${reason}`);
  }
  return { config: parseConfig(text, path), path };
}

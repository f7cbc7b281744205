import { parse as parseYaml, YAMLError } from "yaml";
import { describeIssues } from "../validation/describe-issues";
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
    throw new ConfigError(`Error validating config '${source}': ${describeIssues(result.error)}`);
  }
  return result.data;
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

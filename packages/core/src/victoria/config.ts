import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import * as z from "zod";
import { describeIssues } from "../validation/describe-issues";
import { DEFAULT_CONFIG_YAML } from "./default-config";
import { ConfigError } from "./errors";

const providerSection = z.record(z.string(), z.unknown());

/** `victoria.yaml`, as the Python Victoria defined it. Unknown top-level keys are ignored, as there. */
export const victoriaConfigSchema = z.object({
  logging_config: z.record(z.string(), z.unknown()),
  encryption_provider: z
    .object({
      provider: z.string().min(1),
      config: providerSection.nullish().transform((c) => c ?? {}),
    })
    .nullish()
    .transform((e) => e ?? null),
  storage_providers: z
    .record(z.string(), providerSection)
    .nullish()
    .transform((s) => s ?? {}),
  plugins_config: z
    .record(z.string(), z.unknown())
    .nullish()
    .transform((p) => p ?? {}),
  plugins_config_location: z
    .record(z.string(), z.string())
    .nullish()
    .transform((p) => p ?? {}),
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
    throw new ConfigError(`Error in config file '${source}': invalid YAML: ${(error as Error).message}`);
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
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : String(code);
    throw new ConfigError(`Error opening config file '${path}': ${reason}`);
  }
  return { config: parseConfig(text, path), path };
}

import { parse as parseYaml } from "yaml";
import { describeIssues } from "../validation/describe-issues";
import type { VictoriaConfig } from "./config";
import { ConfigError } from "./errors";
import type { Plugin, VictoriaServices } from "./plugin";

/** Splits `<storage provider>://<key>` from `plugins_config_location`. */
function parseLocation(pluginName: string, location: string): { provider: string; key: string } {
  const match = /^([^:/]+):\/\/(.+)$/.exec(location);
  if (!match) {
    throw new ConfigError(
      `plugins_config_location.${pluginName}: expected '<storage provider>://<key>', got '${location}'`,
    );
  }
  return { provider: match[1] as string, key: match[2] as string };
}

/**
 * A plugin's config: from the storage location named in `plugins_config_location` (which wins, as in
 * the Python Victoria), else `plugins_config.<plugin>`, else `{}` so schema defaults apply.
 */
export async function loadPluginConfig(
  plugin: Plugin,
  config: VictoriaConfig,
  services: VictoriaServices,
): Promise<unknown> {
  if (!plugin.configSchema) return undefined;
  let raw: unknown = Object.hasOwn(config.plugins_config, plugin.name)
    ? config.plugins_config[plugin.name]
    : undefined;
  let source = `plugins_config.${plugin.name}`;
  const location = Object.hasOwn(config.plugins_config_location, plugin.name)
    ? config.plugins_config_location[plugin.name]
    : undefined;
  if (location !== undefined) {
    const { provider, key } = parseLocation(plugin.name, location);
    const bytes = await (await services.storage(provider)).get(key);
    source = location;
    try {
      raw = parseYaml(Buffer.from(bytes).toString("utf8"));
    } catch (error) {
      throw new ConfigError(`Error in plugin config '${source}': invalid YAML: ${(error as Error).message}`);
    }
  }
  const result = plugin.configSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new ConfigError(`Error validating config '${source}': ${describeIssues(result.error)}`);
  }
  return result.data;
}

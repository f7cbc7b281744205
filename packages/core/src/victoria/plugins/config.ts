import { stringify } from "yaml";
import * as z from "../../validation/zod";
import { definePlugin } from "../plugin";

const configPluginSchema = z.object({
  indent: z._default(z.int().check(z.gte(1), z.lte(10)), 2),
});

/** Keys whose values are credentials; `config view` masks them so output can go to Slack safely. */
const SECRET_KEY = /secret|password|passwd|connection_?string|token|access_?key|sas|credential/i;
const MASK = "<masked>";

function maskSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        SECRET_KEY.test(k) && v !== null && v !== "" ? MASK : maskSecrets(v),
      ]),
    );
  }
  return value;
}

export const configPlugin = definePlugin({
  name: "config",
  summary: "Print the loaded config, and the path to the config file.",
  configSchema: configPluginSchema,
  commands: [
    {
      name: "path",
      summary: "Print the path to the config file Victoria uses.",
      sensitive: false,
      args: [],
      async run(ctx) {
        ctx.out.out(
          ctx.configPath ?? "(bundled default config: set VICTORIA_CONFIG or pass -c FILE to use a file)",
        );
      },
    },
    {
      name: "view",
      summary: "Print the current loaded config (credentials masked) and exit.",
      sensitive: false,
      args: [],
      async run(ctx) {
        const text = stringify(maskSecrets(ctx.config), { indent: ctx.pluginConfig.indent });
        ctx.out.out(text.trimEnd());
      },
    },
  ],
});

/**
 * Bundles each server to plain JavaScript, so contenders run on bare `node`: no tsx loader thread
 * in their RSS or startup, as in production, where the Lambdas are esbuild bundles too.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const HERE = fileURLToPath(new URL(".", import.meta.url));
/** Under the repository (git- and biome-ignored `dist/`) so external packages resolve from node_modules. */
export const DIST_DIR = join(HERE, "dist");

/** npm packages stay external (loaded from node_modules as they are); our TypeScript workspaces are bundled. */
const externalPackages: Plugin = {
  name: "external-packages",
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith("@victoria/") ? undefined : { path: args.path, external: true },
    );
  },
};

/** Returns the bundle path for each entry name (a file under `servers/`). */
export async function bundleServers(entries: readonly string[]): Promise<Map<string, string>> {
  await build({
    entryPoints: entries.map((entry) => join(HERE, "servers", `${entry}.ts`)),
    outdir: DIST_DIR,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    plugins: [externalPackages],
    logLevel: "warning",
  });
  return new Map(entries.map((entry) => [entry, join(DIST_DIR, `${entry}.mjs`)]));
}

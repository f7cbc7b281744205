import type { BuildOptions } from "esbuild";
import { ESM_BANNER } from "./build-lambdas";

/**
 * What the local server and the CLI bundles share: minified ESM for plain `node`, split so code
 * only some commands or requests need loads on first use, names kept for logs and stack traces.
 */
export const NODE_ESM_BUNDLE = {
  outExtension: { ".js": ".mjs" },
  splitting: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  mainFields: ["module", "main"],
  minify: true,
  keepNames: true,
  sourcemap: "linked",
  banner: { js: ESM_BANNER },
  logLevel: "warning",
} as const satisfies BuildOptions;

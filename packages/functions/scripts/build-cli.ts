// `tsx packages/functions/scripts/build-cli.ts [outDir]` (`npm run build:cli`): bundles the Victoria CLI
// into `<outDir>/victoria.mjs`, an executable that starts in plain `node`. `bin/victoria` runs the
// sources through tsx, which spends ~0.9 s transpiling before the engine runs; as VICTORIA_BIN
// (one process per command) the bundle answers in roughly a bare Node start.
import { chmod, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { NODE_ESM_BUNDLE } from "./node-bundle-options";

const FUNCTIONS_DIR = fileURLToPath(new URL("..", import.meta.url));
const CLI_SOURCE = join(FUNCTIONS_DIR, "..", "core", "src", "victoria", "bin.ts");
export const CLI_OUT_DIR = join(FUNCTIONS_DIR, "dist", "cli");

export async function buildCli(outDir: string = CLI_OUT_DIR): Promise<string> {
  await rm(outDir, { recursive: true, force: true });
  await build({
    entryPoints: [CLI_SOURCE],
    outdir: outDir,
    entryNames: "victoria",
    chunkNames: "chunks/[name]-[hash]",
    // Storage, encryption and dead-letter providers load only for the commands that use them.
    // bin.ts's own `#!/usr/bin/env node` line is kept by esbuild; the banner follows it.
    ...NODE_ESM_BUNDLE,
  });
  const entry = join(outDir, "victoria.mjs");
  await chmod(entry, 0o755);
  return entry;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.stdout.write(`${await buildCli(process.argv[2] ? resolve(process.argv[2]) : undefined)}\n`);
}

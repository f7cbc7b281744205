// `tsx packages/functions/scripts/build-local.ts [outDir]`: bundles the local server (what `npm start`
// runs) so it starts in plain `node` without transpiling hundreds of TypeScript files first.
import { rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { ESM_BANNER } from "./build-lambdas";

const FUNCTIONS_DIR = fileURLToPath(new URL("..", import.meta.url));
export const LOCAL_OUT_DIR = join(FUNCTIONS_DIR, "dist", "local");
export const LOCAL_METAFILE = "metafile.json";

/**
 * Builds `src/local.ts` into `<outDir>/local.mjs`. `outDir` must sit two levels under
 * `packages/functions/` (as `dist/local/` does): the workbench finds its page at
 * `../../workbench-page/` from its own module, so chunks stay beside the entry, not in a subfolder.
 */
export async function buildLocalServer(outDir: string = LOCAL_OUT_DIR): Promise<string> {
  await rm(outDir, { recursive: true, force: true });
  const { metafile } = await build({
    entryPoints: [join(FUNCTIONS_DIR, "src", "local.ts")],
    outdir: outDir,
    entryNames: "local",
    chunkNames: "[name]-[hash]",
    outExtension: { ".js": ".mjs" },
    // Stand-ins and SDKs that only some requests need load on first use.
    splitting: true,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    mainFields: ["module", "main"],
    // The workbench compiles its page with esbuild at run time; it stays a package import.
    external: ["esbuild"],
    // Minified as the Lambdas are: a third less for V8 to parse at start (names kept for logs).
    minify: true,
    keepNames: true,
    sourcemap: "linked",
    banner: { js: ESM_BANNER },
    logLevel: "warning",
    metafile: true,
  });
  // What went into which file, for "what does a start load?" (the bundle test reads it).
  await writeFile(join(outDir, LOCAL_METAFILE), JSON.stringify(metafile));
  return join(outDir, "local.mjs");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await buildLocalServer(process.argv[2] ? resolve(process.argv[2]) : undefined);
}

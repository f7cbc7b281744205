// `tsx packages/functions/scripts/build-local.ts [outDir]`: bundles the local server (what `npm start`
// runs) so it starts in plain `node` without transpiling hundreds of TypeScript files first.
import { rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { writeBundleStamp } from "./bundle-stamp.mjs";
import { NODE_ESM_BUNDLE } from "./node-bundle-options";

const FUNCTIONS_DIR = fileURLToPath(new URL("..", import.meta.url));
export const LOCAL_OUT_DIR = join(FUNCTIONS_DIR, "dist", "local");
export const LOCAL_METAFILE = "metafile.json";

/**
 * Builds `src/local.ts` into `<outDir>/local.mjs`. `outDir` must sit two levels under
 * `packages/functions/` (as `dist/local/` does): the workbench finds its page at
 * `../../workbench-page/` from its own module, so chunks stay beside the entry, not in a subfolder.
 */
export async function buildLocalServer(outDir: string = LOCAL_OUT_DIR): Promise<string> {
  const startedAt = Date.now();
  await rm(outDir, { recursive: true, force: true });
  const { metafile } = await build({
    entryPoints: [join(FUNCTIONS_DIR, "src", "local.ts")],
    outdir: outDir,
    entryNames: "local",
    chunkNames: "[name]-[hash]",
    // Minified as the Lambdas are; stand-ins and SDKs only some requests need load on first use.
    ...NODE_ESM_BUNDLE,
    // The workbench compiles its page with esbuild at run time; it stays a package import.
    external: ["esbuild"],
    metafile: true,
  });
  // What went into which file, for "what does a start load?" (the bundle test reads it).
  await writeFile(join(outDir, LOCAL_METAFILE), JSON.stringify(metafile));
  // What `npm start` compares to skip this build: the sources and packages bundled, and how they
  // are bundled (these scripts, esbuild's version).
  const scripts = ["build-local.ts", "node-bundle-options.ts", "build-lambdas.ts", "bundle-stamp.mjs"];
  writeBundleStamp(
    outDir,
    [
      ...Object.keys(metafile.inputs),
      ...scripts.map((name) => join(FUNCTIONS_DIR, "scripts", name)),
      createRequire(import.meta.url).resolve("esbuild/package.json"),
    ],
    startedAt,
  );
  return join(outDir, "local.mjs");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await buildLocalServer(process.argv[2] ? resolve(process.argv[2]) : undefined);
}

// `tsx packages/functions/scripts/build-lambdas.ts [outDir]`: bundles every Lambda handler the way
// SST's Node runtime does, so sizes, cold-start imports and the "no Service Bus SDK in
// /authenticate" rule can be checked without deploying.
import { mkdir, rm, stat } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type BuildOptions, build, type Metafile } from "esbuild";

/** The handlers under `src/lambda/`, each exporting `handler`; one bundle (one Lambda) each. */
export const LAMBDA_FUNCTIONS = [
  "authenticate",
  "execute",
  "listener",
  "resolve",
  "worker",
  "retry-failed-requests",
] as const;
export type LambdaFunctionName = (typeof LAMBDA_FUNCTIONS)[number];

const FUNCTIONS_DIR = fileURLToPath(new URL("..", import.meta.url));
/** The working directory esbuild reports metafile paths against (the repository root). */
const REPO_ROOT = resolve(FUNCTIONS_DIR, "../..");
export const DEFAULT_OUT_DIR = join(FUNCTIONS_DIR, "dist", "lambda");

/**
 * An ESM bundle has no `require`, `__filename` or `__dirname`, yet the CommonJS dependencies
 * bundled into it (parts of the Azure and Slack SDKs, their transitive packages) call `require`
 * for Node built-ins and some read `__dirname`. SST prepends the same three definitions.
 */
export const ESM_BANNER = [
  "import { createRequire as __victoriaCreateRequire } from 'module';",
  "import { fileURLToPath as __victoriaFileURLToPath } from 'url';",
  "const require = __victoriaCreateRequire(import.meta.url);",
  "const __filename = __victoriaFileURLToPath(import.meta.url);",
  "const __dirname = __victoriaFileURLToPath(new URL('.', import.meta.url));",
].join(" ");

/**
 * Nothing is external, `@aws-sdk/*` included. Lambda's Node 20/22 runtimes do ship an AWS SDK v3,
 * but at whatever version AWS last rolled out there, which differs from the lock file and changes
 * under a deployed function; the code would then run against an SDK its tests never saw.
 * Bundling pins the version the tests ran against, lets esbuild tree-shake the clients to what we
 * import, and is SST's default too (it forces only native `sharp`/`pg-native` external, which we
 * do not use). The cost is a larger zip, which the size table keeps visible.
 */
export const EXTERNAL: readonly string[] = [];

export interface BuildLambdasOptions {
  /** Which handlers to build; default all of `LAMBDA_FUNCTIONS`. */
  functions?: readonly LambdaFunctionName[];
  /** Minify (as SST does for `sst deploy`); default true. */
  minify?: boolean;
  /** Write `index.mjs.map` beside each bundle, not referenced from it; default true. */
  sourcemap?: boolean;
}

export interface LambdaBundle {
  name: LambdaFunctionName;
  /** Absolute path of `<outDir>/<name>/index.mjs`; the Lambda handler is `index.handler`. */
  outfile: string;
  /** What a cold start loads before the handler runs: the entry and the chunks it imports statically. */
  bytes: number;
  /** Every JavaScript file of the function: the entry plus all chunks (dynamic ones load on first use). */
  totalBytes: number;
  /** Absolute paths of every JavaScript file of the function (the entry first). */
  files: string[];
  buildMs: number;
  /** esbuild's metafile: every input and who imports it, for "why is X in this bundle?". */
  metafile: Metafile;
}

/** esbuild options for one handler, mirroring SST's `sst.aws.Function` Node build for deploys. */
export function lambdaBuildOptions(
  name: LambdaFunctionName,
  outDir: string,
  options: BuildLambdasOptions = {},
): BuildOptions {
  return {
    entryPoints: [join(FUNCTIONS_DIR, "src", "lambda", `${name}.ts`)],
    outdir: join(outDir, name),
    entryNames: "index",
    chunkNames: "chunks/[name]-[hash]",
    outExtension: { ".js": ".mjs" },
    // As SST's `nodejs.splitting` (infra/lambda-defaults.ts): dynamic imports become chunks.
    splitting: true,
    absWorkingDir: REPO_ROOT,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Prefer the ESM builds of dual packages (as SST does); tree-shakes better than `main`.
    mainFields: ["module", "main"],
    external: [...EXTERNAL],
    minify: options.minify ?? true,
    // Minified class and function names would make logs and `error.name` checks unreadable.
    keepNames: true,
    // Maps are kept for reading stack traces, not loaded at run time (no sourceMappingURL comment).
    sourcemap: options.sourcemap === false ? false : "external",
    banner: { js: ESM_BANNER },
    metafile: true,
    logLevel: "silent",
  };
}

/** Builds the handlers one after another (so each build time is its own) into `<outDir>/<name>/index.mjs`. */
export async function buildLambdas(
  outDir: string = DEFAULT_OUT_DIR,
  options: BuildLambdasOptions = {},
): Promise<LambdaBundle[]> {
  const bundles: LambdaBundle[] = [];
  for (const name of options.functions ?? LAMBDA_FUNCTIONS) {
    const buildOptions = lambdaBuildOptions(name, outDir, options);
    const outfile = join(outDir, name, "index.mjs");
    await rm(join(outDir, name), { recursive: true, force: true });
    await mkdir(join(outDir, name), { recursive: true });
    const started = performance.now();
    let result: Awaited<ReturnType<typeof build>>;
    try {
      result = await build(buildOptions);
    } catch (error) {
      throw new Error(`Bundling the ${name} function failed: ${(error as Error).message}`, { cause: error });
    }
    const buildMs = Math.round(performance.now() - started);
    if (result.metafile === undefined) throw new Error(`esbuild returned no metafile for ${name}`);
    const { initial, all } = outputFiles(result.metafile);
    const size = async (paths: readonly string[]) =>
      (await Promise.all(paths.map((path) => stat(join(REPO_ROOT, path))))).reduce(
        (sum, s) => sum + s.size,
        0,
      );
    bundles.push({
      name,
      outfile,
      bytes: await size(initial),
      totalBytes: await size(all),
      files: all.map((path) => join(REPO_ROOT, path)),
      buildMs,
      metafile: result.metafile,
    });
  }
  return bundles;
}

/** The JavaScript outputs (paths relative to the repository root): all of them, and those loaded at import. */
export function outputFiles(
  metafile: Metafile,
  entryFile = "index.mjs",
): { initial: string[]; all: string[] } {
  const outputs = metafile.outputs;
  const all = Object.keys(outputs).filter((path) => path.endsWith(".mjs"));
  // Dynamic-import chunks carry an entryPoint too; the function's own entry is `index.mjs`.
  const entry = all.find((path) => path.endsWith(`/${entryFile}`));
  if (entry === undefined) throw new Error("esbuild reported no entry output");
  const initial = new Set<string>();
  const pending = [entry];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (initial.has(next)) continue;
    initial.add(next);
    for (const imported of outputs[next]?.imports ?? []) {
      if (imported.kind === "import-statement" && !imported.external) pending.push(imported.path);
    }
  }
  return { initial: [...initial], all: [entry, ...all.filter((path) => path !== entry)] };
}

/** Metafile input paths of a package's files: `node_modules/<pkg>/…`, hoisted or nested. */
export function inputsFromPackage(metafile: Metafile, packageName: string): string[] {
  const marker = `node_modules/${packageName}/`;
  return Object.keys(metafile.inputs).filter((path) => path.includes(marker));
}

/**
 * The shortest import chain from the bundle's entry point to the first file of `packageName`, as
 * metafile paths (entry first), or undefined when the package is not in the bundle.
 */
export function importChain(metafile: Metafile, packageName: string): string[] | undefined {
  const targets = new Set(inputsFromPackage(metafile, packageName));
  if (targets.size === 0) return undefined;
  const entries = Object.values(metafile.outputs)
    .map((output) => output.entryPoint)
    .filter((entry): entry is string => entry !== undefined);
  const cameFrom = new Map<string, string | null>(entries.map((entry) => [entry, null]));
  const queue = [...entries];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (targets.has(next)) {
      const chain: string[] = [];
      for (let at: string | null | undefined = next; at; at = cameFrom.get(at)) chain.unshift(at);
      return chain;
    }
    for (const imported of metafile.inputs[next]?.imports ?? []) {
      if (imported.external || cameFrom.has(imported.path)) continue;
      cameFrom.set(imported.path, next);
      queue.push(imported.path);
    }
  }
  return undefined;
}

/** The report `tsx build-lambdas.ts` prints: one row per function, then the total. */
export function formatBundleTable(bundles: readonly LambdaBundle[]): string {
  const kib = (bytes: number) => (bytes / 1024).toFixed(1);
  const rows = bundles.map((b) => [b.name, kib(b.bytes), kib(b.totalBytes), String(b.buildMs)]);
  const sum = (pick: (b: LambdaBundle) => number) => bundles.reduce((total, b) => total + pick(b), 0);
  rows.push([
    "total",
    kib(sum((b) => b.bytes)),
    kib(sum((b) => b.totalBytes)),
    String(sum((b) => b.buildMs)),
  ]);
  const header = ["function", "cold-start load (KiB)", "with all chunks (KiB)", "build (ms)"];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ");
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  return [line(header), rule, ...rows.slice(0, -1).map(line), rule, line(rows.at(-1) ?? [])].join("\n");
}

async function main(): Promise<void> {
  const outDir = resolve(process.argv[2] ?? DEFAULT_OUT_DIR);
  const bundles = await buildLambdas(outDir);
  const shown = relative(process.cwd(), outDir);
  process.stdout.write(
    `${formatBundleTable(bundles)}\n\nbundles in ${shown.startsWith("..") ? outDir : shown}\n`,
  );
  const authenticate = bundles.find((b) => b.name === "authenticate");
  const chain = authenticate && importChain(authenticate.metafile, "@azure/service-bus");
  if (chain) {
    process.stderr.write(`authenticate bundles @azure/service-bus through:\n  ${chain.join("\n  → ")}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}

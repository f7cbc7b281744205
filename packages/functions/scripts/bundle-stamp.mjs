// What a bundle was built from, so `npm start` can tell in milliseconds whether to build again.
// Plain JavaScript: the launcher that reads it runs in plain `node`, before anything is compiled.
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

export const STAMP_FILE = "inputs.json";
const FORMAT = 2;

/**
 * Size and change time of `file`, or undefined when it is gone. The change time (ctime), not the
 * modification time: no tool sets it back, so a checkout of an older file or a package unpacked
 * with its tarball's fixed mtimes still counts as a change.
 */
function fingerprint(file) {
  try {
    const { size, ctimeMs } = statSync(file);
    return [size, ctimeMs];
  } catch {
    return undefined;
  }
}

/**
 * A file of an installed package stands for its package.json: npm writes every file of a package
 * when it installs it, so one check per package (about a hundred) replaces one per file (thousands).
 */
function watched(file) {
  const pkg = /^(.*[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(file);
  return pkg ? join(pkg[1], "package.json") : file;
}

/**
 * Records the inputs of a build (absolute paths) with their size and ctime in `<outDir>/inputs.json`.
 * A file changed while the build ran (ctime at or after `startedAtMs`) is recorded as changed, so
 * the next start builds again rather than trust a bundle made from the older text.
 */
export function writeBundleStamp(outDir, inputs, startedAtMs) {
  const entries = [];
  for (const input of new Set(inputs.map((file) => watched(resolve(file))))) {
    const print = fingerprint(input);
    // Virtual inputs (esbuild namespaces) have no file to watch.
    if (print === undefined) continue;
    entries.push([input, print[0], print[1] >= startedAtMs ? -1 : print[1]]);
  }
  writeFileSync(join(outDir, STAMP_FILE), JSON.stringify({ format: FORMAT, inputs: entries }));
  return entries.length;
}

/**
 * Why the bundle in `outDir` must be built again, or undefined when every input is as it was built
 * from: same size and ctime (an edit, a checkout, an install or a deletion changes one of them).
 */
export function bundleStaleReason(outDir, bundleFile) {
  if (fingerprint(join(outDir, bundleFile)) === undefined) return "no bundle yet";
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(outDir, STAMP_FILE), "utf8"));
  } catch {
    return "no record of its inputs";
  }
  if (stamp?.format !== FORMAT || !Array.isArray(stamp.inputs))
    return "its record of inputs is from another version";
  for (const [file, size, mtimeMs] of stamp.inputs) {
    const now = fingerprint(file);
    if (now === undefined) return `${relative(process.cwd(), file)} is gone`;
    if (now[0] !== size || now[1] !== mtimeMs) return `${relative(process.cwd(), file)} changed`;
  }
  return undefined;
}

/** How many inputs the stamp in `outDir` lists (for the launcher's one line). */
export function stampedInputCount(outDir) {
  try {
    return JSON.parse(readFileSync(join(outDir, STAMP_FILE), "utf8")).inputs.length;
  } catch {
    return 0;
  }
}

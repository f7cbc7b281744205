// `npm start`: builds the local server bundle only when one of its inputs changed since it was
// built (checking takes milliseconds, building seconds), then runs it in this same process, so the
// signals a terminal or npm sends reach the server itself and nothing is left running behind.
// Plain JavaScript, because it runs before anything is compiled.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bundleStaleReason, stampedInputCount } from "./bundle-stamp.mjs";

const functionsDir = fileURLToPath(new URL("..", import.meta.url));
const outDir = join(functionsDir, "dist", "local");
const bundle = join(outDir, "local.mjs");

const checkStarted = performance.now();
const reason = bundleStaleReason(outDir, "local.mjs");
if (reason === undefined) {
  const checked = (performance.now() - checkStarted).toFixed(0);
  process.stdout.write(
    `Local server bundle is up to date (${stampedInputCount(outDir)} inputs checked in ${checked} ms)\n`,
  );
} else {
  process.stdout.write(`Building the local server bundle (${reason})…\n`);
  const buildStarted = performance.now();
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const built = spawnSync(
    process.execPath,
    ["--import", tsx, join(functionsDir, "scripts", "build-local.ts")],
    {
      stdio: "inherit",
    },
  );
  if (built.status !== 0) {
    process.stderr.write(
      `Could not build the local server bundle (${built.signal ?? `exit ${built.status}`})\n`,
    );
    process.exit(built.status ?? 1);
  }
  process.stdout.write(`Built in ${((performance.now() - buildStarted) / 1000).toFixed(1)} s\n`);
}

// Under npm, npm is the lifeline: killed outright (SIGKILL, no signal to pass on), it would leave the
// server running with no one to stop it. Adopted by another parent means that happened.
if (process.env.npm_lifecycle_event) {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, "SIGTERM");
  }, 1000).unref();
}

await import(pathToFileURL(bundle).href);

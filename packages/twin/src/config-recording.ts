import { dirname, relative, resolve as resolvePath, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { type AppGlobal, createSstGlobals, SST_GLOBAL_NAMES, toPlain } from "./sst-globals";

/**
 * Runs `sst.config.ts` the way `sst deploy --stage <stage>` does — `app({stage})`, then `await
 * run()` with `$app` set — against the recording stand-ins of ./sst-globals, and returns what it
 * declared as plain data.
 *
 * Each evaluation runs in a fresh worker thread with tsx's loader. The config and infra/*.ts are ES
 * modules that build their components at import time from globals: a second evaluation in the same
 * module graph would get the first one's components, and two at once would share `$app`. A worker
 * gives each evaluation its own module cache, its own globals and its own `process.env` (the
 * `env` option, read by `app()`), leaves nothing behind in the caller's realm (no `aws` or `sst`
 * global, no module instances that live as long as the process), and is the same whether the caller
 * runs under vitest, tsx or a bundle. What comes back is only data, which is all a model should be.
 */

export interface RecordedComponent {
  /** The constructor's path: `sst.aws.Function`, `aws.lambda.FunctionEventInvokeConfig`, … */
  kind: string;
  /** The component's name: `Worker`. */
  id: string;
  /** Its arguments and options as plain data: outputs are declared values, components `ComponentRef`s. */
  args: Record<string, unknown>;
  opts: Record<string, unknown> | undefined;
}

export interface ConfigRecording {
  /** The absolute path of the config evaluated. */
  configFile: string;
  stage: string;
  /** What `app({stage})` returned. */
  settings: Record<string, unknown>;
  /** Every component `run()` constructed, in order. */
  components: RecordedComponent[];
  /** What `run()` returned, as plain data. */
  outputs: Record<string, unknown>;
}

export interface RecordOptions {
  /** Default: the repository's sst.config.ts. */
  configFile?: string;
  /** Default "dev". */
  stage?: string;
  /** Laid over this process's environment for the evaluation; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
}

/** The repository's sst.config.ts. */
export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL("../../../sst.config.ts", import.meta.url));

const THIS_MODULE = import.meta.url;
const TWIN_SOURCE_DIR = dirname(fileURLToPath(import.meta.url));

type WorkerResult =
  | { ok: true; recording: ConfigRecording }
  | { ok: false; phase: string; message: string; stack: string | undefined };

/** The worker's entry: loads tsx, then calls `recordInThisThread` of this very module. */
const WORKER_ENTRY = new URL("./config-worker.mjs", import.meta.url);

/** Evaluates the config in a fresh worker thread and returns what it declared. */
export function recordConfig(options: RecordOptions = {}): Promise<ConfigRecording> {
  const configFile = resolvePath(options.configFile ?? DEFAULT_CONFIG_FILE);
  const stage = options.stage ?? "dev";
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...process.env, ...options.env })) {
    if (value !== undefined) env[name] = value;
  }
  const shown = relative(process.cwd(), configFile);
  const label = `${shown && !shown.startsWith("..") ? shown : configFile} (stage ${stage})`;
  const worker = new Worker(WORKER_ENTRY, {
    env,
    workerData: {
      recorder: THIS_MODULE,
      request: { configFile, stage },
    },
  });
  return new Promise<ConfigRecording>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      outcome();
      void worker.terminate();
    };
    worker.once("message", (result: WorkerResult) =>
      settle(() =>
        result.ok
          ? resolve(result.recording)
          : reject(configError(label, result.phase, result.message, result.stack, configFile)),
      ),
    );
    worker.once("error", (error) =>
      settle(() =>
        reject(configError(label, "an asynchronous callback", error.message, error.stack, configFile)),
      ),
    );
    worker.once("exit", (code) =>
      settle(() =>
        reject(new Error(`${label}: the evaluation ended (exit code ${code}) before run() settled`)),
      ),
    );
  });
}

/** An error naming the config, the phase and, when the stack shows it, the config's file:line. */
function configError(
  label: string,
  phase: string,
  message: string,
  stack: string | undefined,
  configFile: string,
): Error {
  const where = configFrame(stack, dirname(configFile));
  const error = new Error(`${label} failed in ${phase}${where ? ` at ${where}` : ""}: ${message}`);
  if (stack) error.stack = `${error.message}\n--- in the evaluation:\n${stack}`;
  return error;
}

/**
 * The first stack frame in the config's own files (sst.config.ts, infra/*.ts), relative to its
 * folder: `infra/functions.ts:42:9`. Frames in node_modules and in the twin's stand-ins are skipped.
 */
export function configFrame(stack: string | undefined, configDir: string): string | undefined {
  for (const line of (stack ?? "").split("\n")) {
    const frame = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?\s*$/.exec(line);
    if (!frame) continue;
    const [, location = "", row, column] = frame;
    let file = location.replace(/\?[^:]*$/, "");
    if (file.startsWith("file://")) {
      try {
        file = fileURLToPath(file);
      } catch {
        continue;
      }
    }
    if (!file.startsWith(configDir + sep)) continue;
    if (file.includes(`${sep}node_modules${sep}`) || file.startsWith(TWIN_SOURCE_DIR + sep)) continue;
    return `${relative(configDir, file)}:${row}:${column}`;
  }
  return undefined;
}

/**
 * The worker's half: installs the stand-ins on this thread's `globalThis`, imports the config,
 * calls `app({stage})` and `run()`. Only for a fresh thread (see `recordConfig`): the config's
 * modules are cached by the first call.
 */
export async function recordInThisThread(request: {
  configFile: string;
  stage: string;
}): Promise<WorkerResult> {
  const { configFile, stage } = request;
  const sst = createSstGlobals();
  Object.assign(globalThis, sst.globals);
  let phase = "loading";
  try {
    const loaded = (await import(pathToFileURL(configFile).href)) as { default?: unknown };
    const config = loaded.default as
      | { app?: (input: { stage: string }) => Record<string, unknown>; run?: () => unknown }
      | undefined;
    if (typeof config?.app !== "function" || typeof config.run !== "function") {
      throw new Error("the default export is not $config({ app(), run() })");
    }
    phase = "app()";
    const settings = config.app({ stage });
    sst.setApp({
      name: String(settings.name),
      stage,
      removal: typeof settings.removal === "string" ? settings.removal : "retain",
      protect: settings.protect === true,
      providers: (settings.providers as AppGlobal["providers"] | undefined) ?? {},
    });
    phase = "run()";
    const outputs = (await config.run()) ?? {};
    phase = "recording";
    const plain = (value: unknown, path: string) => toPlain(value, sst, path) as Record<string, unknown>;
    return {
      ok: true,
      recording: {
        configFile,
        stage,
        settings: plain(settings, "app()"),
        components: sst.calls.map((call) => ({
          kind: call.kind,
          id: call.id,
          args: plain(call.args ?? {}, `${call.id} args`),
          opts: call.opts === undefined ? undefined : plain(call.opts, `${call.id} options`),
        })),
        outputs: plain(outputs, "run() outputs"),
      },
    };
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    return { ok: false, phase, message: failure.message, stack: failure.stack };
  } finally {
    for (const name of SST_GLOBAL_NAMES) Reflect.deleteProperty(globalThis, name);
  }
}

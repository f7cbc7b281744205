// The worker thread in which config-recording.ts evaluates sst.config.ts: tsx's loader first (the
// config, infra/*.ts and the recorder are TypeScript), then the recorder, then the answer posted.
// Plain JavaScript because it runs before any TypeScript loader exists in the thread.
import { parentPort, workerData } from "node:worker_threads";
import { register as registerCjs } from "tsx/cjs/api";
import { register } from "tsx/esm/api";

// Both, as the tsx CLI does: a config outside a `"type": "module"` package is loaded as CommonJS.
registerCjs();
register();
try {
  const recorder = await import(workerData.recorder);
  parentPort.postMessage(await recorder.recordInThisThread(workerData.request));
} catch (error) {
  parentPort.postMessage({
    ok: false,
    phase: "loading the recorder",
    message: String(error?.message ?? error),
    stack: error?.stack,
  });
}

/*
 * One Lambda "container" of the twin: a child process that imports one built bundle (as Lambda's
 * Node runtime imports index.mjs) and runs invocations sent by its host over IPC, one at a time,
 * with a Lambda-like context. Started by function-host.ts; not run by hand.
 */
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";

interface InvokeMessage {
  type: "invoke";
  id: number;
  event: unknown;
  deadline: number;
  functionName: string;
  memoryMB: number;
}

type Handler = (event: unknown, context: Record<string, unknown>) => Promise<unknown>;

const bundle = process.argv[2];
if (!bundle) throw new Error("function-process: the bundle path is required");
const loaded = import(pathToFileURL(bundle).href) as Promise<{ handler: Handler }>;

process.on("message", async (message: InvokeMessage) => {
  if (message.type !== "invoke") return;
  const requestId = randomUUID();
  const context = {
    awsRequestId: requestId,
    functionName: message.functionName,
    functionVersion: "$LATEST",
    memoryLimitInMB: String(message.memoryMB),
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${message.functionName}`,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    callbackWaitsForEmptyEventLoop: false,
  };
  try {
    const { handler } = await loaded;
    const result = await handler(message.event, context);
    process.send?.({ type: "result", id: message.id, ok: true, result, rssBytes: process.memoryUsage().rss });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    process.send?.({
      type: "result",
      id: message.id,
      ok: false,
      error: { errorType: e.name, errorMessage: e.message },
      rssBytes: process.memoryUsage().rss,
    });
  }
});
process.send?.({ type: "ready" });

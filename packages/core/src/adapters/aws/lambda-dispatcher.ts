import {
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  type LambdaClientConfig,
} from "@aws-sdk/client-lambda";
import { DispatchError, encodeJob } from "../../dispatch/job-router";
import type { Dispatcher, Job } from "../../ports";

/**
 * Largest request an asynchronous (`Event`) Invoke accepts: 1 MB since October 2025 (256 KB
 * before). AWS documents "1 MB"; we read it as 1 MiB, and AWS's own 413 maps to DispatchError
 * anyway should it count differently.
 */
export const ASYNC_INVOKE_MAX_PAYLOAD_BYTES = 1024 * 1024;

export interface LambdaDispatcherOptions {
  /** Name, ARN or partial ARN of the worker function, optionally with `:alias`. */
  functionName: string;
  /** A ready client; otherwise one is made from `clientConfig` (SDK defaults when omitted). */
  client?: LambdaClient;
  clientConfig?: LambdaClientConfig;
  /** Refuse larger jobs before sending; lower it where the old 256 KB limit still applies. */
  maxPayloadBytes?: number;
  now?: () => Date;
}

export interface LambdaDispatcher extends Dispatcher {
  readonly functionName: string;
}

/** The AWS error name, or a network error's code (`ECONNREFUSED`) when the SDK never got an answer. */
function errorName(error: unknown): string {
  if (!(error instanceof Error)) return "UnknownError";
  const code = (error as { code?: unknown }).code;
  return error.name === "Error" && typeof code === "string" ? code : error.name;
}

function httpStatus(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata
    ?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

/**
 * Hands jobs to a worker Lambda with an asynchronous invocation: Lambda queues the event and
 * answers 202 at once, and the job survives this function being frozen after its response.
 */
export function createLambdaDispatcher(options: LambdaDispatcherOptions): LambdaDispatcher {
  const { functionName } = options;
  const client = options.client ?? new LambdaClient(options.clientConfig ?? {});
  const maxPayloadBytes = options.maxPayloadBytes ?? ASYNC_INVOKE_MAX_PAYLOAD_BYTES;
  const now = options.now ?? (() => new Date());

  return {
    functionName,

    async dispatch(job: Job) {
      const subject = `job ${JSON.stringify(job.kind)} to Lambda function '${functionName}'`;
      const body = Buffer.from(encodeJob(job, now()), "utf8");
      if (body.byteLength > maxPayloadBytes) {
        throw new DispatchError(
          `Could not dispatch ${subject}: payload is ${body.byteLength} bytes, over the ${maxPayloadBytes}-byte limit of asynchronous invocations`,
          { reason: "too-large" },
        );
      }

      let response: InvokeCommandOutput;
      try {
        response = await client.send(
          new InvokeCommand({ FunctionName: functionName, InvocationType: "Event", Payload: body }),
        );
      } catch (error) {
        // The AWS message is left out on purpose: some (InvalidRequestContentException) quote the payload.
        const name = errorName(error);
        const status = httpStatus(error);
        throw new DispatchError(
          `Could not dispatch ${subject}: ${name}${status === undefined ? "" : ` (HTTP ${status})`}`,
          { reason: "invoke-failed", awsErrorName: name, httpStatus: status },
        );
      }

      // Event invocations answer 202 with no body; anything else means the job was not queued.
      if (response.StatusCode !== 202 || response.FunctionError) {
        const what = response.FunctionError
          ? `function error '${response.FunctionError}'`
          : `unexpected status ${response.StatusCode ?? "(none)"}`;
        throw new DispatchError(`Could not dispatch ${subject}: ${what} instead of 202 Accepted`, {
          reason: "invoke-failed",
          httpStatus: response.StatusCode,
        });
      }
    },
  };
}

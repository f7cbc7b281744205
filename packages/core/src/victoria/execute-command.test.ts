import { describe, expect, it } from "vitest";
import type { FailedRequestEnvelope } from "../failed-requests/failed-request-envelope";
import type { FailedRequestPublisher } from "../failed-requests/failed-request-publisher";
import { EXIT_TRANSIENT } from "../failure-class";
import { createMemoryLogger } from "../logging/json-logger";
import type { CommandResult, CommandRunner } from "../ports";
import { executeCommand } from "./execute-command";

/*
 * What the route tests (packages/functions/src/routes/execute*.test.ts) cannot easily reach over the
 * wire: a sensitive command's transient failure, and a queue that refuses the failed request.
 */

const runnerAnswering = (result: CommandResult): CommandRunner => ({ run: async () => result });

function recordingPublisher(): FailedRequestPublisher & { published: FailedRequestEnvelope["payload"][] } {
  const published: FailedRequestEnvelope["payload"][] = [];
  return { published, publish: async (payload) => void published.push(payload) };
}

describe("executeCommand", () => {
  it("keeps a sensitive command's output out of the failed request, and marks the answer sensitive", async () => {
    const failedRequests = recordingPublisher();
    const answer = await executeCommand(
      {
        runner: runnerAnswering({ exitCode: EXIT_TRANSIENT, output: "key=s3cr3t", sensitive: true }),
        failedRequests,
        logger: createMemoryLogger(),
      },
      { args: ["store", "get"], requester: "slack:U1" },
      "req-1",
    );
    expect(answer).toEqual({
      status: 500,
      body: {
        error: "Command failed: non-zero status code",
        message: "key=s3cr3t",
        failureClass: "transient",
      },
      sensitive: true,
    });
    expect(failedRequests.published).toEqual([
      expect.objectContaining({
        args: ["store", "get"],
        requestId: "req-1",
        requester: "slack:U1",
        error: `exit status ${EXIT_TRANSIENT}: (output withheld: the command is sensitive)`,
        attempt: 1,
      }),
    ]);
  });

  it("still answers when the failed request cannot be published, and logs why", async () => {
    const logger = createMemoryLogger();
    const answer = await executeCommand(
      {
        runner: {
          run: async () => Promise.reject(Object.assign(new Error("reset"), { code: "ECONNRESET" })),
        },
        failedRequests: { publish: async () => Promise.reject(new Error("queue unreachable")) },
        logger,
      },
      { args: ["config", "view"] },
      "req-2",
    );
    expect(answer).toEqual({
      status: 500,
      body: {
        error: "Command failed: uncaught Victoria exception detected",
        message: "Error: reset",
        failureClass: "transient",
      },
      sensitive: false,
    });
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        level: "error",
        message: "failed request not published",
        requestId: "req-2",
        errorMessage: "queue unreachable",
      }),
    );
  });
});

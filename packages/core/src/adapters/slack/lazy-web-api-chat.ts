import { lazyPort } from "../../lazy-port";
import type { Chat } from "../../ports";
import type { WebApiChatOptions } from "./web-api-chat";

/**
 * `createWebApiChat` with `@slack/web-api` (and its HTTP stack) imported on the first call: a
 * route that acknowledges before it talks to Slack, or only sometimes does, starts without it.
 */
export function createLazyWebApiChat(options: WebApiChatOptions): Chat {
  return lazyPort<Chat>(
    {
      userInfo: true,
      postMessage: true,
      postEphemeral: true,
      updateMessage: true,
      openView: true,
      updateView: true,
      publishView: true,
      respond: true,
      uploadFile: true,
    },
    async () => (await import("./web-api-chat")).createWebApiChat(options),
  );
}

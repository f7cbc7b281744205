import type { Logger } from "../logging/json-logger";
import type { Chat, ChatMessage } from "../ports";

/** Who clicked (a button, a dialog) and where Slack lets us answer them alone. */
export interface Clicker {
  requestId: string;
  userId: string;
  /** The interaction's response_url: an ephemeral answer that leaves the clicked message as it is. */
  responseUrl?: string;
  /** Without a response_url, an ephemeral message in this channel. */
  channel?: string;
  /** A click on the App Home tab: answered in the person's DM with the app (there is no message). */
  direct?: boolean;
}

/** Answers the clicker privately; a failure to answer is logged, never thrown (the action stands). */
export async function tellPrivately(
  chat: Chat,
  logger: Logger,
  to: Clicker,
  message: ChatMessage,
): Promise<void> {
  try {
    if (to.direct) {
      await chat.postMessage({ ...message, channel: to.userId });
    } else if (to.responseUrl) {
      await chat.respond(to.responseUrl, { ...message, responseType: "ephemeral", replaceOriginal: false });
    } else if (to.channel) {
      await chat.postEphemeral({ ...message, channel: to.channel, user: to.userId });
    }
  } catch (error) {
    logger.error("could not tell the user", {
      requestId: to.requestId,
      errorMessage: (error as Error).message,
    });
  }
}

/** Who is measured, where each answers, and the exact acknowledgement each must send back. */
import { COMMAND, COMMAND_TEXT } from "./slack-request";

export interface Contender {
  name: string;
  /** Server entry under `servers/`, bundled before the run. */
  entry: string;
  path: string;
  /** Every 200 must carry exactly this body; anything else counts as a mismatch. */
  expectedBody: string;
}

export const BASELINE = "bolt";
export const OURS = "victoria";

export const CONTENDERS: readonly Contender[] = [
  {
    name: OURS,
    entry: "victoria",
    path: "/authenticate",
    expectedBody: JSON.stringify({
      response_type: "ephemeral",
      text: `Running \`${COMMAND} ${COMMAND_TEXT}\`…`,
    }),
  },
  // Bolt's default HTTPReceiver listens on /slack/events; `ack()` with no message is an empty 200.
  { name: BASELINE, entry: "bolt", path: "/slack/events", expectedBody: "" },
  { name: "hono-bare", entry: "hono-bare", path: "/authenticate", expectedBody: "" },
  { name: "node-http", entry: "node-http", path: "/authenticate", expectedBody: "" },
];

/** Who is measured, where each answers, and the exact acknowledgement each must send back. */
import { COMMAND, COMMAND_TEXT } from "./slack-request";

export interface Contender {
  name: string;
  /** Server entry under `servers/`, bundled before the run. */
  entry: string;
  path: string;
  /** Every 200 must carry exactly this body; anything else counts as a mismatch. */
  expectedBody: string;
  /** Environment for the server process (the ablation's step). */
  env?: Record<string, string>;
}

export const BASELINE = "bolt";
export const OURS = "victoria";

const OUR_ACK = JSON.stringify({
  response_type: "ephemeral",
  text: `Running \`${COMMAND} ${COMMAND_TEXT}\`…`,
});

export const CONTENDERS: readonly Contender[] = [
  { name: OURS, entry: "victoria", path: "/authenticate", expectedBody: OUR_ACK },
  // Bolt's default HTTPReceiver listens on /slack/events; `ack()` with no message is an empty 200.
  { name: BASELINE, entry: "bolt", path: "/slack/events", expectedBody: "" },
  { name: "hono-bare", entry: "hono-bare", path: "/authenticate", expectedBody: "" },
  { name: "node-http", entry: "node-http", path: "/authenticate", expectedBody: "" },
];

/**
 * `--ablation`: our route built up a step at a time (servers/ablation.ts), between Bolt and the
 * whole route, to show what each part costs.
 */
export const ABLATION: readonly Contender[] = [
  ...(["verify", "middleware", "validate", "ack"] as const).map((step) => ({
    name: `+${step}`,
    entry: "ablation",
    path: "/authenticate",
    expectedBody: step === "ack" ? OUR_ACK : "",
    env: { ABLATION_STEP: step },
  })),
  { name: OURS, entry: "victoria", path: "/authenticate", expectedBody: OUR_ACK },
  { name: BASELINE, entry: "bolt", path: "/slack/events", expectedBody: "" },
];

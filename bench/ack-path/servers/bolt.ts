/**
 * Slack Bolt for JS with its default HTTP receiver, verifying and acknowledging the same command.
 * `botId` and `botUserId` are given so it never calls `auth.test`; the Web API URL points at a
 * closed local port so that, should it try to reach Slack anyway, the probe would fail loudly.
 */
import { App } from "@slack/bolt";
import { SIGNING_SECRET } from "../slack-request";
import { announce, HOST, portFromArgv } from "./lifecycle";

const app = new App({
  signingSecret: SIGNING_SECRET,
  token: "xoxb-bench",
  botId: "B0BENCH",
  botUserId: "U0BENCH",
  clientOptions: { slackApiUrl: "http://127.0.0.1:9/api/" },
});

app.command("/victoria", async ({ ack }) => {
  await ack();
});

const server = await app.start({ port: portFromArgv(), host: HOST });
announce(server);

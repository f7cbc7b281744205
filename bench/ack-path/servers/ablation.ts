/**
 * The acknowledgement path built up a step at a time (`npm run bench:ack -- --ablation`), to see
 * what each part of our `/authenticate` costs under load. ABLATION_STEP picks how far to go; each
 * step adds to the one before, and the real route (the `victoria` contender) adds the rest:
 * the dedupe claim, the job encoded and handed off, the log line.
 *
 * - verify:     Hono and our Slack signature check; empty 200 (as `hono-bare`, with our verifier)
 * - middleware: the route's own middleware in `createApp` (body limit, signature); empty 200
 * - validate:   + the form parsed and checked with the route's zod schema; empty 200
 * - ack:        + the command text unformatted and the route's JSON acknowledgement
 */
import { serve } from "@hono/node-server";
import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { verifySlackRequest } from "@victoria/core/security/slack-signature";
import { unformatSlackText } from "@victoria/core/slack/command-tokenizer";
import { slashCommandSchema } from "@victoria/core/slack/slack-request";
import { Hono } from "hono";
import { createApp } from "../../../packages/functions/src/app";
import { limitBodySize } from "../../../packages/functions/src/http/body-size-limit";
import { requireSlackSignature } from "../../../packages/functions/src/http/slack-signature-middleware";
import { MAX_SLACK_BODY_BYTES } from "../../../packages/functions/src/routes/authenticate";
import { SIGNING_SECRET } from "../slack-request";
import { announce, HOST, portFromArgv } from "./lifecycle";

export const ABLATION_STEPS = ["verify", "middleware", "validate", "ack"] as const;
const step = process.env.ABLATION_STEP ?? "";
if (!(ABLATION_STEPS as readonly string[]).includes(step))
  throw new Error(`ABLATION_STEP must be one of ${ABLATION_STEPS}`);
const upTo = (name: (typeof ABLATION_STEPS)[number]) =>
  ABLATION_STEPS.indexOf(name) <= ABLATION_STEPS.indexOf(step as never);
const logger = createJsonLogger(() => {});

let app: Hono;
if (step === "verify") {
  app = new Hono().post("/authenticate", async (c) => {
    const check = verifySlackRequest({
      signingSecret: SIGNING_SECRET,
      rawBody: await c.req.text(),
      timestamp: c.req.header("x-slack-request-timestamp"),
      signature: c.req.header("x-slack-signature"),
    });
    return check.ok ? c.body(null, 200) : c.text("invalid signature", 401);
  });
} else {
  const router = new Hono().post(
    "/authenticate",
    limitBodySize(MAX_SLACK_BODY_BYTES),
    requireSlackSignature({ signingSecret: SIGNING_SECRET, logger, route: "/authenticate" }),
    async (c) => {
      if (!upTo("validate")) return c.body(null, 200);
      const parsed = slashCommandSchema.safeParse(
        Object.fromEntries(new URLSearchParams(await c.req.text())),
      );
      if (!parsed.success) return c.text("not a slash command", 400);
      if (!upTo("ack")) return c.body(null, 200);
      const shown = `${parsed.data.command} ${unformatSlackText(parsed.data.text).trim()}`;
      return c.json({ response_type: "ephemeral", text: `Running \`${shown.replace(/`/g, "'")}\`…` });
    },
  );
  app = createApp({ logger, routes: [{ path: "/authenticate", method: "POST", router }] });
}

const server = serve({ fetch: app.fetch, port: portFromArgv(), hostname: HOST }, () => announce(server));

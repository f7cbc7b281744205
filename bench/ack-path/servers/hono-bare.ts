/** Reference: bare Hono that checks the Slack signature and acknowledges with an empty 200. */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { isSignedBySlack } from "../slack-request";
import { announce, HOST, portFromArgv } from "./lifecycle";

const app = new Hono().post("/authenticate", async (c) => {
  const body = await c.req.text();
  if (!isSignedBySlack(body, c.req.header("x-slack-request-timestamp"), c.req.header("x-slack-signature")))
    return c.text("invalid signature", 401);
  return c.body(null, 200);
});

const server = serve({ fetch: app.fetch, port: portFromArgv(), hostname: HOST }, () => announce(server));

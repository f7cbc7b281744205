/** Reference: plain node:http that checks the Slack signature and acknowledges with an empty 200. */
import { createServer } from "node:http";
import { isSignedBySlack } from "../slack-request";
import { announce, HOST, portFromArgv } from "./lifecycle";

const header = (value: string | string[] | undefined) => (typeof value === "string" ? value : undefined);

const server = createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/authenticate") {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const { headers } = req;
    const ok = isSignedBySlack(
      body,
      header(headers["x-slack-request-timestamp"]),
      header(headers["x-slack-signature"]),
    );
    res.writeHead(ok ? 200 : 401).end();
  });
});

server.listen(portFromArgv(), HOST, () => announce(server));

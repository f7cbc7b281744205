import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { Vault } from "@victoria/core/deadletter/vault";
import type { Logger } from "@victoria/core/logging/json-logger";
import * as z from "@victoria/core/validation/zod";
import type { ServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import type { SlackStandIn } from "@victoria/emulators/slack";
import type { ReceivedMail } from "@victoria/emulators/smtp";
import { Hono, type MiddlewareHandler } from "hono";
import { limitBodySize } from "../http/body-size-limit";
import { jsonError } from "../http/json-errors";
import { requireJsonContentType } from "../http/require-json-content-type";
import { validJsonBody } from "../http/valid-json-body";
import { sampleAlert } from "./sample-alerts";
import {
  type AppRoute,
  createSlackClientSide,
  type PostOutcome,
  WorkbenchInputError,
} from "./slack-client-side";

export type { AppRoute };

import { readWorkbenchState } from "./workbench-state";

/** A person the page can type as. `member` says whether SRE_MEMBERS lists them (undefined: Graph decides). */
export interface WorkbenchUser {
  id: string;
  name: string;
  email?: string;
  member?: boolean;
}

export interface WorkbenchOptions {
  /** The embedded Slack stand-in; without it the page explains what it needs and does nothing. */
  slack?: SlackStandIn;
  /** The embedded Service Bus broker; without it there is no trouble to make. */
  broker?: ServiceBusStandIn;
  /** The embedded SMTP stand-in, whose mail the page shows; absent when SMTP_URL names a real server. */
  mail?: { readonly received: readonly ReceivedMail[] };
  namespace: string;
  queues: readonly string[];
  /** The embedded broker's topics and their subscriptions (LOCAL_SERVICE_BUS_ENTITIES). */
  topics?: ReadonlyArray<{ name: string; subscriptions: readonly string[] }>;
  vault: Vault;
  auditFile?: string;
  users: readonly WorkbenchUser[];
  botUserId: string;
  channel: { id: string; name: string };
  teamId: string;
  command: string;
  signingSecret: string;
  listenerToken: string;
  /**
   * Where the page's requests are sent as Slack and Azure send them: the local server's own routes,
   * or the Function URLs of the twin (`npm run twin`).
   */
  routeUrl: (route: AppRoute) => string;
  /** Serve clients whose Host header is not a loopback name (LOCAL_ALLOW_REMOTE). */
  allowRemote: boolean;
  logger: Logger;
}

const PAGE_DIR = new URL("../../workbench-page/", import.meta.url);
const MAX_API_BODY_BYTES = 64 * 1024;
/** The newest mail the page is sent; older mail stays in the stand-in. */
const MAX_MAIL_SHOWN = 50;
const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

const userField = z.string().check(z.minLength(1, "user is required"));
const postSchema = z.object({ user: userField, text: z.string().check(z.maxLength(40_000)) });
const clickSchema = z.object({
  user: userField,
  messageTs: z.string().check(z.minLength(1)),
  actionId: z.string().check(z.minLength(1)),
  value: z.optional(z.string()),
});
const submitSchema = z.object({
  user: userField,
  values: z.record(z.string(), z.record(z.string(), z.string().check(z.maxLength(3000)))),
});
const closeSchema = z.object({ user: userField });
const homeClickSchema = z.object({
  user: userField,
  actionId: z.string().check(z.minLength(1)),
  value: z.optional(z.string()),
});
const deadLetterSchema = z.object({
  queue: z.string().check(z.minLength(1)),
  body: z.string().check(z.maxLength(200_000)),
  reason: z.string().check(z.minLength(1, "a dead-letter reason is required"), z.maxLength(4096)),
  description: z._default(z.string().check(z.maxLength(4096)), ""),
});
const alertSchema = z.object({
  queue: z.string().check(z.minLength(1)),
  kind: z.enum(["azure-monitor", "event-grid"]),
});

/**
 * A browser talking to us must be on a loopback name (a page on another site that resolves its name
 * to 127.0.0.1 is not), and a cross-site page cannot post: its Origin would not match our Host.
 */
function sameOriginOnLoopback(allowRemote: boolean): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header("host") ?? "";
    if (!allowRemote && !LOOPBACK_HOST.test(host)) {
      return jsonError(c, 403, `The workbench answers requests for localhost only (Host was '${host}')`);
    }
    const origin = c.req.header("origin");
    if (c.req.method !== "GET" && origin !== undefined && origin !== `http://${host}`) {
      return jsonError(c, 403, `Cross-origin requests are refused (Origin ${origin})`);
    }
    await next();
  };
}

/**
 * Noto Color Emoji for the page's @font-face, where the machine has no emoji font (emoji would be
 * empty boxes). Resolved as a package from this module, which works from the sources and from the
 * bundle in dist/local/ alike; read on first request (5.8 MB), or undefined when not installed.
 */
const EMOJI_FONT = "@fontsource/noto-color-emoji/files/noto-color-emoji-emoji-400-normal.woff2";
let emojiFont: Promise<Uint8Array<ArrayBuffer> | undefined> | undefined;
function readEmojiFont(): Promise<Uint8Array<ArrayBuffer> | undefined> {
  emojiFont ??= (async () => {
    try {
      return new Uint8Array(await readFile(createRequire(import.meta.url).resolve(EMOJI_FONT)));
    } catch {
      return undefined;
    }
  })();
  return emojiFont;
}

/** The page's files, read once; the script is TypeScript modules, bundled on first request. */
function pageAssets() {
  const cache = new Map<string, Promise<string>>();
  const load = (name: string, produce: () => Promise<string>) => {
    let entry = cache.get(name);
    if (entry === undefined) {
      entry = produce();
      entry.catch(() => cache.delete(name));
      cache.set(name, entry);
    }
    return entry;
  };
  const file = (name: string) => load(name, () => readFile(new URL(name, PAGE_DIR), "utf8"));
  return {
    html: () => file("index.html"),
    css: () => file("workbench.css"),
    script: () =>
      load("main.ts", async () => {
        // esbuild is what tsx already runs on; loaded lazily so startup does not pay for it.
        const { build } = await import("esbuild");
        const result = await build({
          entryPoints: [fileURLToPath(new URL("main.ts", PAGE_DIR))],
          bundle: true,
          write: false,
          format: "esm",
          target: "es2022",
          logLevel: "silent",
        });
        return result.outputFiles[0]?.text ?? "";
      }),
  };
}

/** The workbench: a Slack-like page at `/` and the JSON API behind it. Local server only. */
export function workbenchRoute(options: WorkbenchOptions): Hono {
  const { slack, broker, logger } = options;
  const assets = pageAssets();
  const clientSide =
    slack &&
    createSlackClientSide({
      slack,
      signingSecret: options.signingSecret,
      routeUrl: options.routeUrl,
      channel: options.channel,
      teamId: options.teamId,
      botUserId: options.botUserId,
      command: options.command,
    });
  const knownUsers = new Set(options.users.map((u) => u.id));

  const app = new Hono();
  app.use("/workbench/*", sameOriginOnLoopback(options.allowRemote));
  app.use("/", sameOriginOnLoopback(options.allowRemote));
  app.post("/workbench/api/*", limitBodySize(MAX_API_BODY_BYTES), requireJsonContentType);

  app.get("/", async (c) => c.html(await assets.html()));
  app.get("/workbench/workbench.css", async (c) =>
    c.body(await assets.css(), 200, { "content-type": "text/css" }),
  );
  app.get("/workbench/workbench.js", async (c) =>
    c.body(await assets.script(), 200, { "content-type": "text/javascript; charset=utf-8" }),
  );

  app.get("/workbench/emoji.woff2", async (c) => {
    const font = await readEmojiFont();
    if (font === undefined)
      return jsonError(c, 404, `${EMOJI_FONT} is not installed: emoji are drawn with the system's fonts`);
    // Never changes for a given install: the browser keeps it rather than fetching 5.8 MB again.
    return c.body(font, 200, { "content-type": "font/woff2", "cache-control": "public, max-age=31536000" });
  });

  app.get("/workbench/api/config", (c) =>
    c.json({
      available: clientSide !== undefined,
      ...(clientSide === undefined
        ? { reason: "The workbench needs the embedded Slack stand-in: start without SLACK_API_URL." }
        : {}),
      channel: options.channel,
      users: options.users,
      bot: { id: options.botUserId, name: "victoria" },
      command: options.command,
      bus: {
        embedded: broker !== undefined,
        namespace: options.namespace,
        queues: options.queues,
        // What any AMQP client (the SDK, Service Bus Explorer) connects with; its key is the fixed
        // development value the broker ignores (SASL ANONYMOUS), so it is no secret.
        ...(broker === undefined
          ? {}
          : { connectionString: broker.connectionString, topics: options.topics ?? [] }),
      },
    }),
  );

  const requireSlack: MiddlewareHandler = async (c, next) => {
    if (clientSide === undefined)
      return jsonError(
        c,
        503,
        "The workbench needs the embedded Slack stand-in: start without SLACK_API_URL.",
      );
    await next();
  };
  const requireUser = (user: string) => {
    if (!knownUsers.has(user)) throw new WorkbenchInputError(`Unknown user ${user}`);
  };
  /** Input the page got wrong is a 400 naming it; what the app answered is passed on as it was. */
  const outcome = async (
    c: Parameters<MiddlewareHandler>[0],
    run: () => Promise<PostOutcome | undefined>,
  ) => {
    try {
      return c.json((await run()) ?? {});
    } catch (error) {
      if (error instanceof WorkbenchInputError) return jsonError(c, 400, error.message);
      throw error;
    }
  };

  // What the Email button sent, newest first, as a mail client lists it.
  app.get("/workbench/api/mail", (c) => {
    const { mail } = options;
    if (mail === undefined) {
      return c.json({
        available: false,
        reason: "Mail goes to the SMTP server in SMTP_URL; start without it to see mail here.",
        messages: [],
      });
    }
    const messages = mail.received
      .slice(-MAX_MAIL_SHOWN)
      .reverse()
      .map((m) => ({
        from: m.headers.from ?? m.from,
        to: m.to,
        subject: m.headers.subject ?? "",
        // The Date header in ISO form; when it is missing or unreadable, when it arrived.
        date: Number.isNaN(Date.parse(m.headers.date ?? ""))
          ? m.receivedAt
          : new Date(m.headers.date as string).toISOString(),
        text: m.text,
        attachments: m.attachments,
      }));
    return c.json({ available: true, total: mail.received.length, messages });
  });

  app.get("/workbench/api/state", requireSlack, async (c) => {
    const user = c.req.query("user") ?? "";
    if (!knownUsers.has(user)) return jsonError(c, 400, `Unknown user '${user}'`);
    return c.json(
      await readWorkbenchState(
        {
          slack: slack as SlackStandIn,
          clientSide: clientSide as NonNullable<typeof clientSide>,
          channel: options.channel,
          ...(broker === undefined ? {} : { broker }),
          namespace: options.namespace,
          queues: options.queues,
          vault: options.vault,
          ...(options.auditFile === undefined ? {} : { auditFile: options.auditFile }),
        },
        user,
      ),
    );
  });

  app.post("/workbench/api/messages", requireSlack, validJsonBody(postSchema), (c) => {
    const { user, text } = c.req.valid("json");
    return outcome(c, async () => {
      requireUser(user);
      return clientSide?.post(user, text);
    });
  });

  app.post("/workbench/api/actions", requireSlack, validJsonBody(clickSchema), (c) => {
    const { user, messageTs, actionId, value } = c.req.valid("json");
    return outcome(c, async () => {
      requireUser(user);
      return clientSide?.click(user, messageTs, actionId, value);
    });
  });

  app.post("/workbench/api/views/:id/submit", requireSlack, validJsonBody(submitSchema), (c) => {
    const { user, values } = c.req.valid("json");
    return outcome(c, async () => {
      requireUser(user);
      return clientSide?.submit(user, c.req.param("id"), values);
    });
  });

  app.post("/workbench/api/views/:id/close", requireSlack, validJsonBody(closeSchema), (c) => {
    const { user } = c.req.valid("json");
    return outcome(c, async () => {
      requireUser(user);
      clientSide?.close(user, c.req.param("id"));
      return {};
    });
  });

  // The app's Home tab: opening it sends app_home_opened; its buttons are clicks from a view.
  app.post("/workbench/api/home/open", requireSlack, validJsonBody(closeSchema), (c) => {
    const { user } = c.req.valid("json");
    return outcome(c, async () => {
      requireUser(user);
      return clientSide?.openHome(user);
    });
  });

  app.post("/workbench/api/home/actions", requireSlack, validJsonBody(homeClickSchema), (c) => {
    const { user, actionId, value } = c.req.valid("json");
    return outcome(c, async () => {
      requireUser(user);
      return clientSide?.clickHome(user, actionId, value);
    });
  });

  const requireQueue = (queue: string) => {
    if (broker === undefined)
      throw new WorkbenchInputError(
        "Making trouble needs the embedded broker: start without SERVICE_BUS_CONNECTIONS.",
      );
    if (!options.queues.includes(queue))
      throw new WorkbenchInputError(`Unknown queue '${queue}' (queues: ${options.queues.join(", ")})`);
    return broker;
  };

  app.post("/workbench/api/dead-letters", validJsonBody(deadLetterSchema), (c) => {
    const { queue, body, reason, description } = c.req.valid("json");
    return outcome(c, async () => {
      const bus = requireQueue(queue);
      let contentType = "text/plain";
      try {
        JSON.parse(body);
        contentType = "application/json";
      } catch {
        // Plain text.
      }
      const messageId = randomUUID();
      // Bytes, as a producer's SDK would send them: the body comes back exactly as typed.
      bus.deadLetter(
        queue,
        { body: Buffer.from(body, "utf8"), messageId, contentType },
        { reason, description },
      );
      logger.info("workbench dead-lettered a message", { queue, messageId });
      return { notice: `Dead-lettered message ${messageId} on ${queue}` };
    });
  });

  app.post("/workbench/api/alerts", validJsonBody(alertSchema), (c) => {
    const { queue, kind } = c.req.valid("json");
    return outcome(c, async () => {
      const bus = requireQueue(queue);
      const body = sampleAlert(kind, {
        namespace: options.namespace,
        queue,
        count: bus.depth(queue).deadLetter,
        now: new Date(),
      });
      const response = await fetch(options.routeUrl("/listener"), {
        method: "POST",
        headers: { "content-type": "application/json", "x-listener-token": options.listenerToken },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Shown as text.
      }
      return {
        sent: { route: "/listener", kind, status: response.status, response: parsed },
      } satisfies PostOutcome;
    });
  });

  return app;
}

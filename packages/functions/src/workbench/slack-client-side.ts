import { randomBytes } from "node:crypto";
import { signSlackRequest } from "@victoria/core/security/slack-signature";
import type { SlackMessage, SlackStandIn, SlackView } from "@victoria/emulators/slack";

/**
 * Slack's side of the conversation, for the workbench: what Slack's servers do when a person types
 * in a channel or clicks a button. It posts the person's message into the stand-in's channel,
 * mints response_urls and trigger_ids bound to that person, and sends the app a request signed
 * exactly as Slack signs it (v0 HMAC over `v0:timestamp:body`) over HTTP. The signing secret
 * stays here; the page only ever sees the outcome.
 */
export interface SlackClientSideOptions {
  slack: SlackStandIn;
  signingSecret: string;
  /** Where each of the app's routes is: the local server's own paths, or a deployment's Function URLs. */
  routeUrl: (route: AppRoute) => string;
  channel: { id: string; name: string };
  teamId: string;
  botUserId: string;
  /** The app's slash command, as in the manifest. */
  command: string;
}

/** The app's routes that Slack and Azure call. */
export type AppRoute = "/authenticate" | "/resolve" | "/listener";

/** What the app answered, for the page to show. */
export interface SentRequest {
  route: AppRoute;
  kind:
    | "slash_command"
    | "app_mention"
    | "app_home_opened"
    | "block_actions"
    | "view_submission"
    | "azure-monitor"
    | "event-grid";
  status: number;
  response: unknown;
}

export interface PostOutcome {
  /** Absent when the message was plain chat: Slack sends the app nothing for it. */
  sent?: SentRequest;
  /** What Slack itself says, e.g. for a slash command it does not know. */
  notice?: string;
}

export class WorkbenchInputError extends Error {
  override readonly name = "WorkbenchInputError";
}

const APP_ID = "A0VICTORIA";
/** `@victoria` as typed; Slack's client turns it into `<@BOTID>` in the message text. */
const TYPED_MENTION = /(^|\s)@victoria\b/gi;

const id = (prefix: string, bytes = 5) => `${prefix}${randomBytes(bytes).toString("hex").toUpperCase()}`;
const triggerId = () => `${Date.now()}.${randomBytes(4).readUInt32BE()}.${randomBytes(16).toString("hex")}`;

export function createSlackClientSide(options: SlackClientSideOptions) {
  const { slack, channel, teamId, botUserId } = options;
  /** trigger_id → who clicked, so a modal opened with it is shown to that person. */
  const triggers = new Map<string, string>();
  /** Modals the person closed or submitted successfully. */
  const finishedViews = new Set<string>();

  async function send(
    route: SentRequest["route"],
    kind: SentRequest["kind"],
    body: string,
    contentType: string,
  ): Promise<SentRequest> {
    const response = await fetch(options.routeUrl(route), {
      method: "POST",
      headers: { "content-type": contentType, ...signSlackRequest(options.signingSecret, body) },
      body,
    });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get("content-type") ?? "").includes("application/json")) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // Shown as text.
      }
    }
    return { route, kind, status: response.status, response: parsed };
  }

  /** Slack shows a slash command's immediate JSON answer as a message (ephemeral unless in_channel). */
  async function showAcknowledgement(user: string, sent: SentRequest): Promise<void> {
    const body = sent.response;
    if (sent.status !== 200 || typeof body !== "object" || body === null) return;
    if (!("text" in body) && !("blocks" in body)) return;
    await fetch(slack.responseUrl({ channel: channel.id, user }), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  async function slashCommand(user: string, text: string): Promise<PostOutcome> {
    const [command = ""] = text.trim().split(/\s+/);
    if (command !== options.command) {
      return { notice: `${command} is not a valid command. The app's command is ${options.command}.` };
    }
    const trigger = triggerId();
    triggers.set(trigger, user);
    const form = new URLSearchParams({
      token: "workbench-verification-token",
      team_id: teamId,
      team_domain: "workbench",
      channel_id: channel.id,
      channel_name: channel.name,
      user_id: user,
      user_name: user.toLowerCase(),
      command,
      text: text.trim().slice(command.length).trim(),
      api_app_id: APP_ID,
      is_enterprise_install: "false",
      response_url: slack.responseUrl({ channel: channel.id, user }),
      trigger_id: trigger,
    });
    const sent = await send(
      "/authenticate",
      "slash_command",
      form.toString(),
      "application/x-www-form-urlencoded",
    );
    await showAcknowledgement(user, sent);
    return { sent };
  }

  async function mention(user: string, text: string): Promise<PostOutcome> {
    const encoded = text.replace(TYPED_MENTION, `$1<@${botUserId}>`);
    const posted = slack.postUserMessage({ channel: channel.id, user, text: encoded });
    if (!encoded.includes(`<@${botUserId}>`)) return {};
    const envelope = eventCallback({
      type: "app_mention",
      user,
      text: encoded,
      ts: posted.ts,
      team: teamId,
      channel: channel.id,
      event_ts: posted.ts,
    });
    return { sent: await send("/authenticate", "app_mention", JSON.stringify(envelope), "application/json") };
  }

  /** An Events API delivery of `event`, as Slack wraps it for the app. */
  function eventCallback(event: Record<string, unknown>) {
    return {
      token: "workbench-verification-token",
      team_id: teamId,
      api_app_id: APP_ID,
      type: "event_callback",
      event_id: id("Ev", 8),
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: teamId, user_id: botUserId, is_bot: true, is_enterprise_install: false }],
      event,
    };
  }

  function findMessage(ts: string): SlackMessage {
    const message = slack.messages(channel.id).find((m) => m.ts === ts && !m.deleted);
    if (message === undefined) throw new WorkbenchInputError(`No message ${ts} in ${channel.name}`);
    return message;
  }

  /** The button as the message (or Home tab) holds it: Slack sends its block_id, text, value and style. */
  function findButton(
    message: Pick<SlackMessage, "blocks">,
    actionId: string,
    value: string | undefined,
    where = "The message",
  ) {
    for (const block of message.blocks ?? []) {
      const elements = (block as { elements?: unknown }).elements;
      if (block.type !== "actions" || !Array.isArray(elements)) continue;
      for (const element of elements as Record<string, unknown>[]) {
        if (element.action_id === actionId && (value === undefined || element.value === value)) {
          return { blockId: block.block_id as string | undefined, element };
        }
      }
    }
    throw new WorkbenchInputError(`${where} has no button ${actionId}`);
  }

  /** One click's `actions` entry, as Slack describes the button clicked. */
  const actionOf = (actionId: string, blockId: string | undefined, element: Record<string, unknown>) => ({
    action_id: actionId,
    block_id: blockId,
    text: element.text,
    value: element.value,
    ...(element.style === undefined ? {} : { style: element.style }),
    type: element.type ?? "button",
    action_ts: `${Date.now() / 1000}`,
  });

  /** A click's `block_actions` payload with what every click carries; its trigger is `user`'s (for a dialog it opens). */
  function blockActions(user: string, fields: Record<string, unknown>) {
    const trigger = triggerId();
    triggers.set(trigger, user);
    return {
      type: "block_actions",
      user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: teamId },
      api_app_id: APP_ID,
      token: "workbench-verification-token",
      trigger_id: trigger,
      team: { id: teamId, domain: "workbench" },
      enterprise: null,
      is_enterprise_install: false,
      ...fields,
    };
  }

  return {
    /** A message typed as `user`: a slash command, a mention of the bot, or plain chat. */
    post(user: string, text: string): Promise<PostOutcome> {
      const trimmed = text.trim();
      if (trimmed === "") throw new WorkbenchInputError("Type a message first");
      return trimmed.startsWith("/") ? slashCommand(user, trimmed) : mention(user, trimmed);
    },

    /** A click on a button of a message in the channel, sent as Slack's `block_actions`. */
    async click(user: string, messageTs: string, actionId: string, value?: string): Promise<PostOutcome> {
      const message = findMessage(messageTs);
      const { blockId, element } = findButton(message, actionId, value);
      const payload = blockActions(user, {
        container: {
          type: "message",
          message_ts: message.ts,
          channel_id: channel.id,
          is_ephemeral: message.ephemeral,
        },
        channel: { id: channel.id, name: channel.name },
        message: {
          type: "message",
          ...(message.author === undefined
            ? { user: botUserId, bot_id: "B0VICTORIA" }
            : { user: message.author }),
          ts: message.ts,
          text: message.text ?? "",
          ...(message.blocks === undefined ? {} : { blocks: message.blocks }),
        },
        state: { values: {} },
        response_url: slack.responseUrl({ channel: channel.id, user, messageTs: message.ts }),
        actions: [actionOf(actionId, blockId, element)],
      });
      const form = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      return { sent: await send("/resolve", "block_actions", form, "application/x-www-form-urlencoded") };
    },

    /**
     * The person opens the app's Home tab: Slack sends `app_home_opened` (tab `home`) to the Events
     * API URL every time; the app answers with views.publish, which the stand-in keeps per person.
     */
    async openHome(user: string): Promise<PostOutcome> {
      const envelope = eventCallback({
        type: "app_home_opened",
        user,
        channel: `D${user.slice(1)}`,
        tab: "home",
        event_ts: `${Date.now() / 1000}`,
        ...(slack.homeView(user) === undefined ? {} : { view: slack.homeView(user)?.view }),
      });
      return {
        sent: await send("/authenticate", "app_home_opened", JSON.stringify(envelope), "application/json"),
      };
    },

    /**
     * A click on a button of the person's Home tab, as Slack sends it from a view: a `view`
     * container and the view, but no channel, no message and no response_url.
     */
    async clickHome(user: string, actionId: string, value?: string): Promise<PostOutcome> {
      const home = slack.homeView(user);
      if (home === undefined) throw new WorkbenchInputError("The Home tab has not been published yet");
      const blocks = home.view.blocks as Record<string, unknown>[] | undefined;
      const { blockId, element } = findButton({ blocks }, actionId, value, "The Home tab");
      const payload = blockActions(user, {
        container: { type: "view", view_id: home.id },
        view: { id: home.id, team_id: teamId, ...home.view, hash: randomBytes(8).toString("hex") },
        actions: [actionOf(actionId, blockId, element)],
      });
      const form = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      return { sent: await send("/resolve", "block_actions", form, "application/x-www-form-urlencoded") };
    },

    /** The newest modal opened for `user` that is still open. */
    openView(user: string): SlackView | undefined {
      return slack
        .views()
        .filter((view) => triggers.get(view.triggerId) === user && !finishedViews.has(view.id))
        .at(-1);
    },

    /**
     * Submits a modal with the person's input, keyed block_id → action_id → text, as Slack's
     * `view_submission`. The modal stays open when the app answers `response_action: "errors"`.
     */
    async submit(
      user: string,
      viewId: string,
      input: Record<string, Record<string, string>>,
    ): Promise<PostOutcome> {
      const opened = slack
        .views()
        .find((view) => view.id === viewId && triggers.get(view.triggerId) === user);
      if (opened === undefined || finishedViews.has(viewId))
        throw new WorkbenchInputError(`No open dialog ${viewId}`);
      const values: Record<string, Record<string, Record<string, unknown>>> = {};
      for (const block of (opened.view.blocks as Record<string, unknown>[] | undefined) ?? []) {
        const element = block.element as
          | { type?: string; action_id?: string; initial_option?: { value?: string } }
          | undefined;
        if (block.type !== "input" || typeof block.block_id !== "string" || !element?.action_id) continue;
        const typed = input[block.block_id]?.[element.action_id] ?? "";
        if (element.type === "radio_buttons" || element.type === "static_select") {
          // A choice is submitted as the option picked, as Slack does (the initial one if untouched).
          const picked = typed || element.initial_option?.value;
          values[block.block_id] = {
            [element.action_id]: { type: element.type, selected_option: picked ? { value: picked } : null },
          };
          continue;
        }
        values[block.block_id] = {
          [element.action_id]: {
            type: element.type ?? "plain_text_input",
            value: typed === "" ? null : typed,
          },
        };
      }
      const payload = {
        type: "view_submission",
        team: { id: teamId, domain: "workbench" },
        user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: teamId },
        api_app_id: APP_ID,
        token: "workbench-verification-token",
        trigger_id: triggerId(),
        view: {
          id: opened.id,
          team_id: teamId,
          ...opened.view,
          state: { values },
          hash: randomBytes(8).toString("hex"),
        },
        response_urls: [],
        is_enterprise_install: false,
      };
      const form = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      const sent = await send("/resolve", "view_submission", form, "application/x-www-form-urlencoded");
      const response = sent.response as { response_action?: string; view?: unknown } | string;
      const action = typeof response === "object" ? response?.response_action : undefined;
      // `update` replaces the open view (same id), as Slack does; the app may update it again later.
      if (sent.status === 200 && action === "update" && typeof response === "object" && isView(response.view))
        slack.replaceView(viewId, response.view);
      const keepOpen = sent.status !== 200 || action === "errors" || action === "update";
      if (!keepOpen) finishedViews.add(viewId);
      return { sent };
    },

    /** The person dismissed the modal (the app asked for no view_closed events, so none is sent). */
    close(user: string, viewId: string): void {
      const opened = slack
        .views()
        .find((view) => view.id === viewId && triggers.get(view.triggerId) === user);
      if (opened === undefined) throw new WorkbenchInputError(`No open dialog ${viewId}`);
      finishedViews.add(viewId);
    },
  };
}

export type SlackClientSide = ReturnType<typeof createSlackClientSide>;

function isView(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string"
  );
}

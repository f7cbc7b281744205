import type { Vault } from "../deadletter/vault";
import type { Logger } from "../logging/json-logger";
import { gateChannel, type PolicyGate } from "../policy/policy-gate";
import type { Chat } from "../ports";
import { mrkdwn } from "../slack/slack-text";
import * as z from "../validation/zod";
import {
  buildHomeView,
  buildRefusedHomeView,
  type HomeView,
  NEWEST_SHOWN,
  RECENT_SHOWN,
} from "./app-home-view";
import { tallyParked } from "./parked-tally";
import type { RecentCommandStore } from "./recent-commands";

export const PUBLISH_APP_HOME_JOB = "publish-app-home";

/** Who opened (or needs a fresh) Home tab; JSON so it can cross a Lambda invoke. */
export const publishAppHomeJobSchema = z.object({
  requestId: z.string(),
  userId: z.string().check(z.minLength(1)),
  teamId: z.optional(z.string()),
  /** The app's DM channel with the person (`D…`), which the event names; the policy sees the Home there. */
  channel: z.optional(z.string()),
});
export type PublishAppHomeJob = z.infer<typeof publishAppHomeJobSchema>;

/**
 * What the Home shows is what `deadletter ls` shows, so the policy decides who sees it as it decides
 * who may run that; without a policy, the SRE group (and SLACK_ALLOWED_MEMBERS) as for any command.
 */
export const HOME_COMMAND = ["deadletter", "ls"] as const;

export interface AppHomeDeps {
  chat: Chat;
  gate: PolicyGate;
  vault: Pick<Vault, "summaries" | "search">;
  recent: RecentCommandStore;
  /** The engine's top-level commands, for "what can I type". */
  help(): Promise<readonly { name: string; summary: string }[]>;
  /** The slash command as in the manifest. */
  command: string;
  logger: Logger;
  now?: () => Date;
}

/**
 * Builds the person's Home and publishes it. A person the gate refuses sees why (the refusal's own
 * words) and nothing from the vault; only after the gate allows is the vault read at all.
 */
export function createAppHomePublisher(deps: AppHomeDeps): (job: PublishAppHomeJob) => Promise<void> {
  const { chat, gate, vault, recent, logger, now = () => new Date() } = deps;

  async function memberView(userId: string): Promise<HomeView> {
    const [summaries, page, commands, help] = await Promise.all([
      vault.summaries({ state: "parked" }),
      vault.search({ state: "parked" }, { limit: NEWEST_SHOWN }),
      recent.recent(userId, RECENT_SHOWN).catch((error: Error) => {
        // The rest of the Home is still worth showing.
        logger.warn("could not read recent commands", { errorMessage: error.message });
        return [];
      }),
      deps.help(),
    ]);
    const at = now();
    return buildHomeView({
      tally: tallyParked(summaries, at),
      newest: page.records,
      recent: commands,
      help,
      command: deps.command,
      now: at,
    });
  }

  return async function publishAppHome(job) {
    const outcome = await gate.check(job.userId, gateChannel(job.channel ?? "", true), HOME_COMMAND);
    let view: HomeView;
    if (outcome.kind === "allow") view = await memberView(job.userId);
    else if (outcome.kind === "refuse") view = buildRefusedHomeView(outcome.message);
    else
      view = buildRefusedHomeView(
        mrkdwn`The command policy asks for an approval before you may list dead letters, so the Home tab cannot show them; run \`deadletter ls\` in a channel to ask for one.`,
      );
    await chat.publishView(job.userId, { ...view });
    logger.info("app home published", { requestId: job.requestId, outcome: outcome.kind });
  };
}

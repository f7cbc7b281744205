import {
  type Block,
  type MrkdwnText,
  recordActions,
  recordSection,
  SLACK_LIMITS,
} from "../deadletter/notification-blocks";
import type { VaultRecord } from "../deadletter/vault";
import { formatDuration } from "../policy/duration";
import {
  cleanPlainText,
  code,
  escapeWithin,
  joinMrkdwn,
  type Mrkdwn,
  mrkdwn,
  truncateMrkdwn,
} from "../slack/slack-text";
import type { ParkedTally } from "./parked-tally";
import type { RecentCommand } from "./recent-commands";

/*
 * The App Home tab (a view of type `home`, published with views.publish), as Block Kit JSON:
 *
 *   header                 ":house: Victoria"
 *   section                how many dead letters are parked, in how many entities, the oldest age
 *   section                one line per entity (most first), then "…and N more entities"
 *   divider
 *   section                "Newest parked"
 *   per record:            section (details) + actions (Replay, Repair…, Email, Delete): the
 *                          notification's own blocks, so a click is the same click
 *   divider, section       the viewer's recent commands and their outcomes
 *   divider, section       what can I type (the engine's plugins), context (updated at)
 *
 * A fixed number of blocks whatever the vault holds (at most 6 + 2 × NEWEST_SHOWN + 6, far below
 * Slack's 100), and every text cut to its limit: entities that do not fit are counted, not listed.
 */

/** Slack's limits for a Home tab: 100 blocks (a message has 50). */
export const HOME_LIMITS = { blocks: 100, sectionText: SLACK_LIMITS.sectionText } as const;
/** Parked dead letters shown one by one, newest first, with their buttons. */
export const NEWEST_SHOWN = 5;
/** Recent commands listed. */
export const RECENT_SHOWN = 5;
/** Entities listed by name at most (fewer when their lines would pass the section's 3,000 characters). */
export const ENTITIES_LISTED = 20;

export interface HomeViewInput {
  tally: ParkedTally;
  /** Parked records, newest first (at most NEWEST_SHOWN are shown). */
  newest: readonly VaultRecord[];
  recent: readonly RecentCommand[];
  /** What can be typed: the engine's top-level commands. */
  help: readonly { name: string; summary: string }[];
  /** The slash command, e.g. `/victoria`. */
  command: string;
  now: Date;
}

export interface HomeView {
  type: "home";
  blocks: Block[];
}

const text = (value: Mrkdwn): MrkdwnText => ({ type: "mrkdwn", text: value.text });
const section = (value: Mrkdwn): Block => ({
  type: "section",
  text: text(truncateMrkdwn(value, HOME_LIMITS.sectionText)),
});
const header = (value: string): Block => ({
  type: "header",
  text: { type: "plain_text", text: cleanPlainText(value, SLACK_LIMITS.headerText), emoji: true },
});
const count = (n: number, one: string, many: string) =>
  `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** The member's Home: dead letters, the newest with their buttons, their commands, and help. */
export function buildHomeView(input: HomeViewInput): HomeView {
  const { tally } = input;
  const blocks: Block[] = [header(":house: Victoria")];
  if (tally.total === 0) {
    blocks.push(section(mrkdwn`:white_check_mark: *No dead letters are parked.*`));
  } else {
    const oldest = Math.max(...tally.entities.map((e) => e.oldestAgeMs ?? 0));
    blocks.push(
      section(
        mrkdwn`:rotating_light: *${count(tally.total, "dead letter", "dead letters")} parked* in ${count(tally.entities.length, "entity", "entities")}; the oldest has waited ${formatDuration(oldest)}.`,
      ),
      section(entityLines(tally)),
    );
  }

  const newest = input.newest.filter((r) => r.state === "parked").slice(0, NEWEST_SHOWN);
  if (newest.length > 0) {
    blocks.push({ type: "divider" }, section(mrkdwn`*Newest parked* (the notification's buttons)`));
    for (const record of newest) blocks.push(recordSection(record), recordActions(record));
  }

  blocks.push({ type: "divider" }, section(recentLines(input.recent)));
  blocks.push({ type: "divider" }, section(helpLines(input.help, input.command)), {
    type: "context",
    elements: [
      text(mrkdwn`Updated ${escapeWithin(input.now.toISOString(), 64)} · reopen the tab to refresh`),
    ],
  });
  return { type: "home", blocks };
}

/** A person who may not use Victoria: why not (the gate's own words), and nothing of the vault. */
export function buildRefusedHomeView(message: string | Mrkdwn): HomeView {
  const why = typeof message === "string" ? escapeWithin(message, HOME_LIMITS.sectionText) : message;
  return {
    type: "home",
    blocks: [
      header(":house: Victoria"),
      section(why),
      {
        type: "context",
        elements: [text(mrkdwn`Victoria's dead letters and commands are for the SRE team's members only.`)],
      },
    ],
  };
}

/** One line per entity, most first, as many as fit; the rest summarised with their count. */
function entityLines(tally: ParkedTally): Mrkdwn {
  const lines: Mrkdwn[] = [];
  let length = 0;
  // Room kept for the summary line of what is left out.
  const room = HOME_LIMITS.sectionText - 120;
  let shown = 0;
  for (const entity of tally.entities) {
    if (shown >= ENTITIES_LISTED) break;
    const age =
      entity.oldestAgeMs === undefined ? mrkdwn`` : mrkdwn` · oldest ${formatDuration(entity.oldestAgeMs)}`;
    const line = mrkdwn`• ${code(`${entity.cluster} / ${entity.entity}`, 200)} — ${entity.count.toLocaleString("en-US")}${age}`;
    if (length + line.text.length + 1 > room) break;
    lines.push(line);
    length += line.text.length + 1;
    shown += 1;
  }
  const rest = tally.entities.slice(shown);
  if (rest.length > 0) {
    const letters = rest.reduce((sum, e) => sum + e.count, 0);
    lines.push(
      mrkdwn`_…and ${count(rest.length, "more entity", "more entities")} (${count(letters, "dead letter", "dead letters")}); \`deadletter stats\` lists them all._`,
    );
  }
  return joinMrkdwn(lines, "\n");
}

function recentLines(recent: readonly RecentCommand[]): Mrkdwn {
  const shown = recent.slice(0, RECENT_SHOWN);
  if (shown.length === 0) return mrkdwn`*Your recent commands*\n_None yet._`;
  const lines = shown.map((entry) => {
    const outcome =
      entry.outcome === "refused"
        ? mrkdwn`:no_entry: refused`
        : entry.outcome === "error"
          ? mrkdwn`:warning: could not run`
          : entry.outcome === 0
            ? mrkdwn`:white_check_mark: exit 0`
            : mrkdwn`:x: exit ${entry.outcome}`;
    return mrkdwn`• ${code(entry.command, 300)} — ${outcome} · ${escapeWithin(entry.time, 64)}`;
  });
  return mrkdwn`*Your recent commands*\n${joinMrkdwn(lines, "\n")}`;
}

function helpLines(help: readonly { name: string; summary: string }[], command: string): Mrkdwn {
  const lines = help.map(
    (plugin) => mrkdwn`• ${code(`${command} ${plugin.name}`, 100)} — ${escapeWithin(plugin.summary, 200)}`,
  );
  return mrkdwn`*What can I type?* In any channel I am in, or here in Messages (without the slash):\n${joinMrkdwn(lines, "\n")}\n${code(`${command} help`)} shows every command; add ${code("--help")} to any of them.`;
}

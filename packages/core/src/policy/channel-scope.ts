/**
 * Where a rule applies: channel ids (`C0OPS`), `dm` for direct messages, `*` for anywhere; a rule
 * without `channels` applies anywhere too.
 */

/** The channel a command was typed in. */
export interface RequestChannel {
  id: string;
  /** A direct message with the bot (Slack's `im`). */
  isDm: boolean;
}

/** A Slack channel id as Slack writes them (`C0123ABCD`, `G…`, `D…`; tests use shorter ones). */
export const CHANNEL_ID = /^[A-Z0-9]{2,}$/;

export function inChannels(channels: readonly string[] | null, channel: RequestChannel): boolean {
  if (channels === null) return true;
  return channels.some((entry) => entry === "*" || (entry === "dm" ? channel.isDm : entry === channel.id));
}

/** `C0OPS or direct messages`, for a terminal and the audit (Slack gets links: decide's channelMentions). */
export function describeChannels(channels: readonly string[]): string {
  const names = [...new Set(channels)]
    .sort((a, b) => Number(a === "dm") - Number(b === "dm"))
    .map((entry) => (entry === "dm" ? "direct messages" : entry));
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}

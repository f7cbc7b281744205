import type { Directory } from "../ports";

/**
 * Email addresses from a list such as `SRE_MEMBERS`: separated by commas (semicolons, whitespace and new
 * lines also work, as people paste lists from mail clients), trimmed, lower-cased, empties and duplicates
 * dropped. Email addresses are compared case-insensitively in practice (Slack and Entra both do).
 */
export function parseMemberList(text: string): string[] {
  const members = text
    .split(/[,;\s]+/)
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
  return [...new Set(members)];
}

/** A fixed SRE group, e.g. from `SRE_MEMBERS`: no directory calls at all. */
export function createStaticDirectory(members: string | readonly string[]): Directory {
  const list = typeof members === "string" ? [members] : members;
  const set: ReadonlySet<string> = new Set(list.flatMap(parseMemberList));
  return {
    async isMember(email: string): Promise<boolean> {
      const wanted = email.trim().toLowerCase();
      return wanted !== "" && set.has(wanted);
    },
  };
}

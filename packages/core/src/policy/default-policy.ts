import type { Directory } from "../ports";
import type { Policy } from "./policy";
import type { SubjectDirectory } from "./subject-directory";

/**
 * Without `VICTORIA_POLICY`, today's behaviour as a policy, so callers have one code path: the SRE group
 * (`SRE_MEMBERS`, or Graph's `SRE_GROUP_ID`) may run every command anywhere, everyone else is refused.
 *
 * The SRE group is whatever the existing `Directory` answers, so it is named here by a stand-in group id
 * that {@link withSreGroup} routes to that directory. The id cannot be written in a policy file (object ids
 * there are letters, digits and dashes), so a file never reaches the SRE directory by accident; an operator
 * who wants the SRE group in a policy names its object id (or its emails).
 *
 * Not covered, so callers keep checking it themselves as they do today: `SLACK_ALLOWED_MEMBERS`, which
 * narrows the SRE group to some Slack ids (a policy's subjects are unions, so "in the group AND on the
 * list" is not a subject), and the Slack profile checks (a bot, a deactivated user).
 */
export const SRE_GROUP_ID = "(SRE group)";

/** The subject's name is what refusals show: "Only the SRE group may run `config view`." */
export const SRE_SUBJECT = "the SRE group";

export function defaultPolicy(): Policy {
  return {
    source: "the default policy (no VICTORIA_POLICY: the SRE group may run everything)",
    subjects: new Map([
      [SRE_SUBJECT, { name: SRE_SUBJECT, entraGroups: [SRE_GROUP_ID], emails: [], slackUsers: [] }],
    ]),
    rules: [
      {
        index: 0,
        kind: "allow",
        commands: [{ text: "*", words: [] }],
        channels: null,
        allow: [SRE_SUBJECT],
        approval: null,
      },
    ],
  };
}

/**
 * A subject directory that answers {@link SRE_GROUP_ID} from the SRE `Directory` and every other group from
 * `groups` (Graph, when configured; otherwise such look-ups fail and the decision refuses).
 */
export function withSreGroup(sre: Directory, groups?: SubjectDirectory): SubjectDirectory {
  return {
    async inGroup(groupId, email) {
      if (groupId === SRE_GROUP_ID) return sre.isMember(email);
      if (groups === undefined)
        throw new Error(`Cannot check Entra group ${groupId}: Microsoft Graph is not configured`);
      return groups.inGroup(groupId, email);
    },
  };
}

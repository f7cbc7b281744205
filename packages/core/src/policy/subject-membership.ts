import type { Policy } from "./policy";
import type { SubjectDirectory } from "./subject-directory";

/** Who is asking, as far as subjects can tell: Slack id always, email when the profile shows one. */
export interface PolicyUser {
  slackId: string;
  email?: string;
}

/** The first of some subjects the user is in, or why none could be confirmed. */
export type SubjectMatch = { in: string } | { in: null; error?: unknown };

/**
 * Answers "is this user in that subject?" for one request. Each subject and each Entra group is asked at
 * most once per request (a decision may consult the same subject for several rules); the directory's own
 * cache spans requests.
 */
export function subjectMembership(policy: Policy, user: PolicyUser, directory: SubjectDirectory) {
  const email = user.email?.trim().toLowerCase() || undefined;
  const groups = new Map<string, Promise<boolean>>();
  const subjects = new Map<string, Promise<boolean>>();

  function inGroup(groupId: string, address: string): Promise<boolean> {
    let answer = groups.get(groupId);
    if (answer === undefined) {
      // Through a promise chain, so a directory that throws instead of rejecting still fails closed.
      answer = Promise.resolve().then(() => directory.inGroup(groupId, address));
      groups.set(groupId, answer);
    }
    return answer;
  }

  async function check(name: string): Promise<boolean> {
    const subject = policy.subjects.get(name);
    if (subject === undefined) return false;
    if (subject.slackUsers.includes(user.slackId)) return true;
    if (email === undefined) return false;
    if (subject.emails.includes(email)) return true;
    const answers = await Promise.allSettled(subject.entraGroups.map((id) => inGroup(id, email)));
    // One group that says yes is enough, even when another could not be read.
    if (answers.some((answer) => answer.status === "fulfilled" && answer.value)) return true;
    const failed = answers.find((answer) => answer.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    return false;
  }

  function inSubject(name: string): Promise<boolean> {
    let answer = subjects.get(name);
    if (answer === undefined) {
      answer = check(name);
      subjects.set(name, answer);
    }
    return answer;
  }

  return {
    /** Whether the user has an email the directory could be asked about. */
    hasEmail: email !== undefined,
    /** The first of `names` (in order) the user is in; a failed look-up is reported only if none is. */
    async firstOf(names: readonly string[]): Promise<SubjectMatch> {
      let error: unknown;
      let failed = false;
      for (const name of names) {
        try {
          if (await inSubject(name)) return { in: name };
        } catch (cause) {
          if (!failed) error = cause;
          failed = true;
        }
      }
      return failed ? { in: null, error } : { in: null };
    },
  };
}

import { type Chat, ChatError, type Directory } from "../ports";

export type Authorization =
  | { ok: true; email: string }
  | {
      ok: false;
      /** Short machine-readable reason for the audit log. */
      reason: string;
      /** What the user is told. */
      message: string;
      email?: string;
    };

export interface AuthorizationChain {
  chat: Chat;
  directory: Directory;
  /** SLACK_ALLOWED_MEMBERS: when set, only these Slack member ids may run commands. */
  allowedMembers?: ReadonlySet<string>;
}

/**
 * The chain every Slack user passes before anything runs: Slack profile → email → SRE group
 * membership → optional allow-list. Any failure to check is a refusal (fail closed).
 */
export async function authorizeSlackUser(
  { chat, directory, allowedMembers }: AuthorizationChain,
  userId: string,
): Promise<Authorization> {
  let user: Awaited<ReturnType<Chat["userInfo"]>>;
  try {
    user = await chat.userInfo(userId);
  } catch (error) {
    const code = error instanceof ChatError ? error.code : "error";
    return {
      ok: false,
      reason: `users.info failed: ${code}`,
      message: "Sorry, I could not look you up in Slack, so I cannot check that you may run Victoria.",
    };
  }
  if (user.isBot || user.deleted) {
    return { ok: false, reason: "bot or deactivated user", message: "Sorry, only people can run Victoria." };
  }
  const email = user.email;
  if (!email) {
    return {
      ok: false,
      reason: "no email on Slack profile",
      message:
        "Sorry, your Slack profile has no email address I can see, so I cannot check your SRE group membership.",
    };
  }
  let member: boolean;
  try {
    member = await directory.isMember(email);
  } catch (error) {
    return {
      ok: false,
      reason: `directory check failed: ${(error as Error).message}`,
      message: "Sorry, I could not check your SRE group membership just now; please try again shortly.",
      email,
    };
  }
  if (!member) {
    return {
      ok: false,
      reason: "not in the SRE group",
      message: `Sorry, ${email} is not a member of the SRE group, so you cannot run Victoria.`,
      email,
    };
  }
  if (allowedMembers && !allowedMembers.has(userId)) {
    return {
      ok: false,
      reason: "not on SLACK_ALLOWED_MEMBERS",
      message: "Sorry, you are not on the list of members allowed to run Victoria.",
      email,
    };
  }
  return { ok: true, email };
}

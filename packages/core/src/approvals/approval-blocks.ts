import type { ChatMessage } from "../ports";
import { commandLine } from "../slack/command-reply";
import { code, type Mrkdwn, mention, mrkdwn } from "../slack/slack-text";
import { type ApprovalRequest, mentions } from "./approval";
import { APPROVAL_ACTIONS } from "./approval-jobs";

/**
 * Commands whose command line holds a secret (`encrypt data <plaintext>`): an approval request is
 * posted in a channel, so it names the command and hides the arguments.
 */
const SECRET_ARGUMENTS = ["encrypt data"];

function secretCommand(command: readonly string[]): string | undefined {
  const secret = SECRET_ARGUMENTS.find((words) => `${command.join(" ")} `.startsWith(`${words} `));
  return secret && command.length > secret.split(" ").length ? secret : undefined;
}

/** The command as approvers see it: whole, or its leading words when its arguments are a secret. */
export function shownCommand(command: readonly string[]): string {
  const secret = secretCommand(command);
  return secret ? `${commandLine(secret.split(" "))} …` : commandLine(command);
}

/** The command as the audit records it (as typed, like a run's record), a secret argument hidden. */
export function auditedCommand(command: readonly string[]): string {
  const secret = secretCommand(command);
  return secret ? `${secret} …` : command.join(" ");
}

const slackTime = (iso: string): Mrkdwn => {
  // Slack shows each reader the time in their own zone; the fallback is the UTC time.
  const seconds = Math.floor(Date.parse(iso) / 1000);
  const fallback = `${iso.slice(0, 16).replace("T", " ")} UTC`;
  return Number.isFinite(seconds)
    ? mrkdwn`<!date^${seconds}^{date_short_pretty} {time}|${fallback}>`
    : mrkdwn`${iso}`;
};

/** What happened to the request, for the line under it and the notification text. */
function status(request: ApprovalRequest): Mrkdwn {
  const given = request.approvals.length;
  switch (request.state) {
    case "pending":
      return given === 0
        ? mrkdwn`:hourglass_flowing_sand: Waiting for ${request.count === 1 ? "an approval" : `${request.count} approvals`} from ${request.approvers.join(" or ")} · expires ${slackTime(request.expiresAt)}`
        : mrkdwn`:hourglass_flowing_sand: Approved by ${mentions(request.approvals)} (${given} of ${request.count}) · expires ${slackTime(request.expiresAt)}`;
    case "approved":
      return mrkdwn`:white_check_mark: Approved by ${mentions(request.approvals)}: running…`;
    case "ran":
      return mrkdwn`:white_check_mark: Approved by ${mentions(request.approvals)} · ran at ${slackTime(request.run?.at ?? request.expiresAt)}: ${request.run?.outcome ?? "done"}`;
    case "rejected":
      return request.rejection?.slackId === request.requester.slackId
        ? mrkdwn`:leftwards_arrow_with_hook: Withdrawn by ${mention(request.requester.slackId)}`
        : mrkdwn`:x: Rejected by ${mention(request.rejection?.slackId ?? "someone")}${request.rejection?.reason ? mrkdwn`: ${request.rejection.reason}` : mrkdwn``}`;
    case "expired":
      return mrkdwn`:hourglass: Expired unanswered at ${slackTime(request.expiresAt)}`;
  }
}

/**
 * The approval request as posted in the channel, and as redrawn after each decision: the command,
 * who asked, the rule that requires approval, and Approve / Reject while it is pending.
 */
export function approvalMessage(request: ApprovalRequest): ChatMessage {
  const headline = mrkdwn`:raised_hand: *Approval needed*: ${mention(request.requester.slackId)} asked to run ${code(shownCommand(request.command), 500)}`;
  const rule = mrkdwn`Required by ${request.ruleLabel} of the command policy · approvers: ${request.approvers.join(", ")}`;
  const blocks: Record<string, unknown>[] = [
    { type: "section", text: { type: "mrkdwn", text: headline.text } },
    { type: "context", elements: [{ type: "mrkdwn", text: rule.text }] },
    { type: "context", elements: [{ type: "mrkdwn", text: status(request).text }] },
  ];
  if (request.state === "pending") {
    blocks.push({
      type: "actions",
      block_id: "approval",
      elements: [
        {
          type: "button",
          action_id: APPROVAL_ACTIONS.approve,
          value: request.id,
          style: "primary",
          text: { type: "plain_text", text: "Approve" },
        },
        {
          type: "button",
          action_id: APPROVAL_ACTIONS.reject,
          value: request.id,
          style: "danger",
          text: { type: "plain_text", text: "Reject" },
        },
      ],
    });
  }
  return { text: `${headline.text} — ${status(request).text}`, blocks };
}

import type { RuleChange } from "../../deadletter/subscription-replay";
import { REPLAY_RULE_NAME, REPLAY_TO_PROPERTY } from "../../deadletter/subscription-replay";
import type { RulesReport } from "../../deadletter/subscription-replay-rules";
import { stripControlCharacters } from "../../slack/slack-text";
import { CommandFailure } from "../errors";
import type { CommandContext, CommandSpec } from "../plugin";
import { unavailableDeadLetters } from "../services";

// `deadletter rules check|install <cluster> <topic>`: the topic rules that let a subscription's dead
// letter be replayed to that subscription alone. Kept apart from deadletter.ts, which only lists it.

/** Names and filters come from the namespace: one line, no terminal escapes. */
function cell(text: string, max = 200): string {
  const flat = stripControlCharacters(text.replace(/\s+/g, " ")).trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

function changeLine(change: RuleChange): string {
  const where = `${cell(change.subscription, 80)}: rule ${cell(change.rule, 60)}`;
  switch (change.kind) {
    case "create":
      return `  ${where} — add: ${cell(change.expression)}`;
    case "update":
      return `  ${where} — guard: ${cell(change.from)}  →  ${cell(change.expression)}`;
    case "manual":
      return `  ${where} — convert it yourself: ${cell(change.reason, 400)}`;
  }
}

function print(ctx: CommandContext, cluster: string, report: Extract<RulesReport, { ok: true }>): void {
  const count = report.subscriptions.length;
  ctx.out.out(
    `Topic ${cell(report.topic, 80)} on cluster ${cell(cluster, 80)}: ${count} subscription${count === 1 ? "" : "s"}.`,
  );
  if (report.applied) {
    if (report.applied.length === 0) ctx.out.out("Nothing to change.");
    else {
      ctx.out.out(`Changed ${report.applied.length} rule${report.applied.length === 1 ? "" : "s"}:`);
      for (const change of report.applied) ctx.out.out(changeLine(change));
    }
  }
  const pending = report.changes;
  const blocked = new Set(pending.map((c) => c.subscription.toLowerCase()));
  for (const subscription of report.subscriptions) {
    const ready = !blocked.has(subscription.name.toLowerCase());
    const rules = subscription.rules.map((r) => cell(r.name, 60)).join(", ") || "(no rules)";
    ctx.out.out(`  ${cell(subscription.name, 80)}: ${ready ? "ready" : "not ready"} — rules ${rules}`);
  }
  if (pending.length === 0) {
    ctx.out.out(
      `Every subscription has its ${REPLAY_RULE_NAME} rule and every other rule keeps out ${REPLAY_TO_PROPERTY}: a dead letter is replayed to its own subscription only.`,
    );
    return;
  }
  ctx.out.out(report.applied ? "Still to do:" : "Needed:");
  for (const change of pending) ctx.out.out(changeLine(change));
}

export const rulesCommand: CommandSpec = {
  name: "rules",
  summary:
    "Check or install the topic rules that let a subscription's dead letter be replayed to that subscription alone.",
  sensitive: false,
  args: [
    { name: "action", description: "check (show what is missing) or install (add it; safe to repeat)." },
    { name: "cluster", description: "A cluster of SERVICE_BUS_CONNECTIONS." },
    { name: "topic", description: "The topic whose subscriptions' rules to check or install." },
  ],
  async run(ctx) {
    const action = ctx.args.action ?? "";
    if (action !== "check" && action !== "install") {
      throw new CommandFailure(`Unknown action '${cell(action, 40)}': use 'check' or 'install'.`, {
        failureClass: "usage",
      });
    }
    const actions = ctx.services.deadLetters
      ? await ctx.services.deadLetters()
      : await unavailableDeadLetters();
    if (!actions.rules) {
      throw new CommandFailure("Topic rules cannot be managed here (no Service Bus).", {
        failureClass: "configuration",
      });
    }
    const cluster = ctx.args.cluster ?? "";
    const report = await actions.rules[action](cluster, ctx.args.topic ?? "");
    if (!report.ok) {
      throw new CommandFailure(report.message, {
        failureClass: report.reason === "missing" ? "not_found" : "configuration",
      });
    }
    print(ctx, cluster, report);
    // A topic that is not ready fails the command, so a script or CI step notices.
    if (report.changes.length > 0) {
      throw new CommandFailure(
        action === "check"
          ? `Not ready: run \`victoria deadletter rules install ${cell(cluster, 80)} ${cell(report.topic, 80)}\`.`
          : "Not ready: the rules above need converting by hand.",
        { failureClass: "configuration" },
      );
    }
  },
};

import { parseInstant } from "../../deadletter/filter-input";
import { REQUEST_ID_PATTERN } from "../../logging/request-context";
import type { AuditRecord } from "../../security/audit-log";
import { stripControlCharacters } from "../../slack/slack-text";
import { CommandFailure, ConfigError } from "../errors";
import { terminalSafeJson } from "../output";
import { type CommandContext, definePlugin } from "../plugin";

/** How far back `audit show` looks by default: it bounds the bucket listing (keys sort by day). */
export const DEFAULT_AUDIT_SINCE = "30d";

/** Outside text (a typed command, a reason) on one line, terminal escapes and controls removed. */
function shown(text: string, max = 200): string {
  const flat = stripControlCharacters(text).replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

function who(record: AuditRecord): string {
  return shown(record.user.email ? `${record.user.email} (${record.user.id})` : record.user.id, 120);
}

/** One record as a block of lines: what happened, when, by whom, where, and how it ended. */
function recordLines(record: AuditRecord): string[] {
  const head = [`${record.time}  ${record.phase}`, who(record), record.source];
  if (record.channel) head.push(`in ${shown(record.channel, 40)}`);
  const lines = [head.join("  ")];
  lines.push(`  command: ${shown(record.command)}`);
  if (record.exitStatus !== undefined) {
    const took = record.durationMs === undefined ? "" : ` after ${record.durationMs} ms`;
    lines.push(`  exit status: ${record.exitStatus}${took}`);
  }
  if (record.approvalId) lines.push(`  approval: ${shown(record.approvalId, 100)}`);
  if (record.reason) lines.push(`  reason: ${shown(record.reason)}`);
  if (record.edits) lines.push(`  edits: ${shown(record.edits.changes.join(", "))}`);
  return lines;
}

/** `victoria audit show ID`: the whole story of one request id from the audit trail, oldest first. */
async function show(ctx: CommandContext): Promise<void> {
  const requestId = ctx.args.id ?? "";
  // Checked before anything reads a store; the id never becomes part of a path.
  if (!REQUEST_ID_PATTERN.test(requestId)) {
    throw new CommandFailure(
      `ID must be a request id (letters, digits and . _ : -, at most 100 characters), not '${shown(requestId, 60)}'.`,
      { failureClass: "usage" },
    );
  }
  const sinceText = typeof ctx.options?.since === "string" ? ctx.options.since : DEFAULT_AUDIT_SINCE;
  const sinceIso = parseInstant(sinceText, new Date());
  if (sinceIso === undefined) {
    throw new CommandFailure(
      `--since must be a duration before now (30d, 12h) or an ISO-8601 time, not '${shown(sinceText, 60)}'.`,
      { failureClass: "usage" },
    );
  }
  const since = new Date(sinceIso);
  const trail = await (ctx.services.auditTrail ?? unavailableAuditTrail)();
  const records = await trail.story(requestId, since);
  records.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  if (ctx.options?.json === true) {
    ctx.out.out(terminalSafeJson({ requestId, since: sinceIso, where: trail.where, records }));
    return;
  }
  if (records.length === 0) {
    throw new CommandFailure(
      `No audit records for request ${requestId} since ${sinceIso} in ${shown(trail.where)} (try a longer --since).`,
      { failureClass: "not_found" },
    );
  }
  ctx.out.out(
    `Request ${requestId}: ${records.length} audit record${records.length === 1 ? "" : "s"} in ${shown(trail.where)}`,
  );
  for (const record of records) for (const line of recordLines(record)) ctx.out.out(line);
}

const unavailableAuditTrail = () => Promise.reject(new ConfigError("No audit trail is configured here."));

/** `audit show`: one request's story, as the audit trail kept it (read-only). */
export const auditPlugin = definePlugin({
  name: "audit",
  summary: "Read the audit trail: every record of one request id, oldest first.",
  commands: [
    {
      name: "show",
      summary:
        "Print the story of one request id from the audit trail (AUDIT_BUCKET or AUDIT_LOG_FILE): phase, time, who, source, channel, command, exit status, duration, approvals.",
      sensitive: false,
      args: [
        {
          name: "id",
          description:
            "The request id, as log lines, audit records and dead-letter records name it (requestId).",
        },
      ],
      options: [
        {
          name: "since",
          description: `Look back this far (30d, 12h) or from this ISO-8601 time; default ${DEFAULT_AUDIT_SINCE}.`,
          takesValue: true,
        },
        { name: "json", description: "Print the records as JSON, for scripts.", takesValue: false },
      ],
      run: show,
    },
  ],
});

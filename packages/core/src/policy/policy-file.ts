import { LineCounter, parseDocument } from "yaml";
import * as z from "../validation/zod";
import { didYouMean } from "../victoria/did-you-mean";
import { CHANNEL_ID } from "./channel-scope";
import { commandPatternProblem, toCommandPattern } from "./command-pattern";
import { formatDuration, parseDuration } from "./duration";
import type { ApprovalRequirement, Policy, PolicyRule, PolicySubject } from "./policy";
import { locate, type SourcePosition } from "./yaml-location";

/** One problem in a policy file, where it is and what the field should be. */
export interface PolicyIssue extends SourcePosition {
  /** `rules[1].approval.count`; empty for the file as a whole. */
  path: string;
  message: string;
}

/**
 * A policy file that cannot be used. The message is one line naming the file, line, column and field of
 * each problem (the first five), e.g. `policy.yaml line 7, column 5, rules[1].approval.count: expected a
 * whole number ≥ 1`, so a refused start says what to fix.
 */
export class PolicyError extends Error {
  override readonly name = "PolicyError";
  constructor(
    readonly source: string,
    readonly issues: readonly PolicyIssue[],
  ) {
    const shown = issues.slice(0, MAX_SHOWN).map(formatIssue).join("; ");
    const more = issues.length > MAX_SHOWN ? ` (and ${issues.length - MAX_SHOWN} more)` : "";
    super(`${source} ${shown}${more}`);
  }
}

const MAX_SHOWN = 5;
/** Longer than a week, an approval request is forgotten rather than pending; likely a typo (`30d`). */
const MAX_APPROVAL_MS = 7 * 86_400_000;
const DEFAULT_APPROVAL_MS = 30 * 60_000;

function formatIssue(issue: PolicyIssue): string {
  const where = `line ${issue.line}, column ${issue.column}`;
  return issue.path ? `${where}, ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/** `rules[1].approval.count` from `["rules", 1, "approval", "count"]`; odd keys quoted: `subjects["a b"]`. */
function pathText(path: readonly (string | number)[]): string {
  return path.reduce<string>((text, segment) => {
    if (typeof segment === "number") return `${text}[${segment}]`;
    if (!/^[A-Za-z0-9_-]+$/.test(segment)) return `${text}[${JSON.stringify(segment)}]`;
    return text ? `${text}.${segment}` : segment;
  }, "");
}

/** A zod error message saying what belongs there, and whether it was missing or empty instead. */
function expected(what: string) {
  return (issue: { input?: unknown }): string => {
    if (issue.input === undefined) return `missing (expected ${what})`;
    if (issue.input === null) return `empty (expected ${what})`;
    return `expected ${what}`;
  };
}

function listOf<T extends z.ZodMiniType>(item: T, what: string, one: string) {
  return z
    .array(item, { error: expected(`a list of ${what}`) })
    .check(z.minLength(1, { error: `expected at least ${one}` }));
}

const SUBJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const subjectName = z.string({ error: expected("a subject name") });

const subjectSchema = z.strictObject(
  {
    // Object ids, not display names: names are neither unique nor what Graph's paths take.
    entraGroups: z.optional(
      z.array(
        z.string({ error: expected("a group's object id") }).check(
          z.regex(/^[0-9A-Za-z-]+$/, {
            error: "expected a group's object id (Entra ID → Groups → Object ID), not its name",
          }),
        ),
        { error: expected("a list of Entra group object ids") },
      ),
    ),
    emails: z.optional(
      z.array(
        z
          .string({ error: expected("an email address") })
          .check(
            z.regex(/^\s*[^\s@]+@[^\s@]+\s*$/, { error: "expected an email address, e.g. a@example.com" }),
          ),
        { error: expected("a list of email addresses") },
      ),
    ),
    slackUsers: z.optional(
      z.array(
        z.string({ error: expected("a Slack member id") }).check(
          z.regex(/^[UW][A-Z0-9]+$/, {
            error: "expected a Slack member id such as U0123ABCD (profile → ⋮ → Copy member ID), not a name",
          }),
        ),
        { error: expected("a list of Slack member ids") },
      ),
    ),
  },
  { error: expected("a mapping with entraGroups, emails or slackUsers") },
);

const channelEntry = z.string({ error: expected('a channel id, "dm" or "*"') }).check(
  z.refine((text) => text === "*" || text === "dm" || CHANNEL_ID.test(text), {
    error: 'expected a channel id such as C0123ABCD, "dm" or "*" (a name like #ops is not an id)',
  }),
);

const commandEntry = z.string({ error: expected('a command\'s leading words, e.g. "deadletter ls"') }).check(
  z.refine((text) => commandPatternProblem(text) === undefined, {
    error: (issue) => commandPatternProblem(String(issue.input)) ?? "expected a command",
  }),
);

const approvalSchema = z.strictObject(
  {
    from: listOf(subjectName, "subject names", "one subject name"),
    count: z.optional(
      z
        .int({ error: expected("a whole number ≥ 1") })
        .check(z.gte(1, { error: "expected a whole number ≥ 1" })),
    ),
    expires: z.optional(
      z.string({ error: expected("a duration such as 30m, 2h or 1d") }).check(
        z.refine((text) => parseDuration(text) !== undefined, {
          error: "expected a duration such as 30m, 2h or 1d",
        }),
      ),
    ),
  },
  { error: expected("a mapping {from, count, expires}") },
);

const ruleSchema = z.strictObject(
  {
    commands: listOf(commandEntry, "commands", "one command"),
    allow: z.optional(listOf(subjectName, "subject names", "one subject name")),
    deny: z.optional(
      z
        .string({ error: expected("the reason shown to the user") })
        .check(z.refine((text) => text.trim() !== "", { error: "expected the reason shown to the user" })),
    ),
    channels: z.optional(
      listOf(channelEntry, 'channel ids, "dm" or "*"', "one channel (leave channels out for any)"),
    ),
    approval: z.optional(approvalSchema),
  },
  { error: expected("a rule: a mapping with commands, and allow or deny") },
);

const policySchema = z.strictObject(
  {
    subjects: z.record(
      subjectName.check(
        z.regex(SUBJECT_NAME, { error: "a subject name is letters, digits, '.', '_' or '-'" }),
      ),
      subjectSchema,
      { error: expected("a mapping of subject names to {entraGroups, emails, slackUsers}") },
    ),
    rules: listOf(ruleSchema, "rules", "one rule"),
  },
  { error: expected("a mapping with subjects and rules") },
);

type PolicyDocument = z.output<typeof policySchema>;
type RawIssue = { path: (string | number)[]; message: string };

/** The keys a mapping at `path` may hold, for unknown-key messages. */
function knownKeysAt(path: readonly PropertyKey[]): readonly string[] {
  if (path.length === 0) return ["subjects", "rules"];
  if (path[0] === "subjects") return ["entraGroups", "emails", "slackUsers"];
  if (path.length === 2) return ["commands", "allow", "deny", "channels", "approval"];
  return ["from", "count", "expires"];
}

function or(words: readonly string[]): string {
  return words.length <= 1 ? words.join("") : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}

interface SchemaIssue {
  code?: string;
  path: PropertyKey[];
  message: string;
  /** Of `unrecognized_keys`. */
  keys?: string[];
  /** Of `invalid_key`: what is wrong with the key itself. */
  issues?: ReadonlyArray<{ message: string }>;
}

function schemaIssues(error: { issues: ReadonlyArray<SchemaIssue> }): RawIssue[] {
  const issues: RawIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map((segment) => (typeof segment === "number" ? segment : String(segment)));
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(issue.path);
      for (const key of issue.keys ?? []) {
        issues.push({
          path: [...path, key],
          message: `unknown key (expected ${or(known)}).${didYouMean(key, known)}`.replace(/\.$/, ""),
        });
      }
    } else if (issue.code === "invalid_key") {
      issues.push({ path, message: issue.issues?.[0]?.message ?? issue.message });
    } else {
      issues.push({ path, message: issue.message });
    }
  }
  return issues;
}

/** What the schema cannot see: one of allow or deny, subjects that name someone and exist. */
function meaningIssues(doc: PolicyDocument): RawIssue[] {
  const issues: RawIssue[] = [];
  const names = Object.keys(doc.subjects);
  for (const [name, subject] of Object.entries(doc.subjects)) {
    const kinds = [subject.entraGroups, subject.emails, subject.slackUsers];
    if (!kinds.some((list) => list !== undefined && list.length > 0)) {
      issues.push({
        path: ["subjects", name],
        message: "names no one (expected at least one of entraGroups, emails or slackUsers)",
      });
    }
  }
  const checkNames = (list: readonly string[], path: (string | number)[]) => {
    list.forEach((name, i) => {
      if (Object.hasOwn(doc.subjects, name)) return;
      const known = names.length > 0 ? ` (subjects: ${names.join(", ")})` : " (no subjects are defined)";
      issues.push({
        path: [...path, i],
        message: `no subject named '${name}'${known}.${didYouMean(name, names)}`,
      });
    });
  };
  doc.rules.forEach((rule, i) => {
    if (rule.allow !== undefined && rule.deny !== undefined) {
      issues.push({ path: ["rules", i, "deny"], message: "a rule has either allow or deny, not both" });
    } else if (rule.allow === undefined && rule.deny === undefined) {
      issues.push({
        path: ["rules", i],
        message: "expected allow (who may run these commands) or deny (the reason refused)",
      });
    }
    if (rule.allow !== undefined) checkNames(rule.allow, ["rules", i, "allow"]);
    if (rule.approval === undefined) return;
    if (rule.deny !== undefined) {
      issues.push({ path: ["rules", i, "approval"], message: "approval goes with allow, not deny" });
    }
    checkNames(rule.approval.from, ["rules", i, "approval", "from"]);
    const expiresMs = parseDuration(rule.approval.expires ?? "30m") as number;
    if (expiresMs <= 0 || expiresMs > MAX_APPROVAL_MS) {
      issues.push({
        path: ["rules", i, "approval", "expires"],
        message: `expected a duration from 1s to ${formatDuration(MAX_APPROVAL_MS)}`,
      });
    }
  });
  // The checks above end sentences with didYouMean's text or a bare period; keep one style.
  return issues.map((issue) => ({ ...issue, message: issue.message.replace(/\.$/, "") }));
}

function toPolicy(doc: PolicyDocument, source: string, ruleLines: readonly number[]): Policy {
  const subjects = new Map<string, PolicySubject>(
    Object.entries(doc.subjects).map(([name, s]) => [
      name,
      {
        name,
        entraGroups: [...new Set(s.entraGroups ?? [])],
        emails: [...new Set((s.emails ?? []).map((email) => email.trim().toLowerCase()))],
        slackUsers: [...new Set(s.slackUsers ?? [])],
      },
    ]),
  );
  const rules = doc.rules.map((rule, index): PolicyRule => {
    const base = {
      index,
      commands: rule.commands.map(toCommandPattern),
      channels: rule.channels ?? null,
      line: ruleLines[index] as number,
    };
    if (rule.deny !== undefined) return { ...base, kind: "deny", reason: rule.deny.trim() };
    const approval: ApprovalRequirement | null =
      rule.approval === undefined
        ? null
        : {
            from: rule.approval.from,
            count: rule.approval.count ?? 1,
            expiresMs:
              rule.approval.expires === undefined
                ? DEFAULT_APPROVAL_MS
                : (parseDuration(rule.approval.expires) as number),
          };
    return { ...base, kind: "allow", allow: rule.allow ?? [], approval };
  });
  return { source, subjects, rules };
}

/**
 * Reads a policy file (YAML). `source` names it in errors (a path, or where on AWS it was read from).
 * Throws {@link PolicyError} naming the line, column and field of what is wrong; unknown keys are refused,
 * as a misspelt `chanels` would otherwise silently open a rule to every channel.
 */
export function parsePolicy(text: string, source: string): Policy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      source,
      doc.errors.map((error) => {
        const { line, col } = lines.linePos(error.pos[0]);
        return { line, column: col, path: "", message: `invalid YAML: ${error.message.split("\n")[0]}` };
      }),
    );
  }
  const located = (issues: RawIssue[]): PolicyIssue[] =>
    issues
      .map((issue) => ({
        ...locate(doc, lines, issue.path),
        path: pathText(issue.path),
        message: issue.message,
      }))
      .sort((a, b) => a.line - b.line || a.column - b.column);

  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (error) {
    // Aliases expanding past yaml's limit (a "billion laughs" file) are refused here.
    const message = `invalid YAML: ${(error as Error).message}`;
    throw new PolicyError(source, [{ line: 1, column: 1, path: "", message }]);
  }
  const result = policySchema.safeParse(raw);
  if (!result.success) throw new PolicyError(source, located(schemaIssues(result.error)));
  const problems = meaningIssues(result.data);
  if (problems.length > 0) throw new PolicyError(source, located(problems));
  const ruleLines = result.data.rules.map((_, i) => locate(doc, lines, ["rules", i]).line);
  return toPolicy(result.data, source, ruleLines);
}

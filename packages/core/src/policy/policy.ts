/**
 * The command policy as the decision reads it: who the subjects are, and the ordered rules that say which
 * subjects may run which commands in which channels. Built by `parsePolicy` from a file, or by
 * `defaultPolicy` when there is none; never mutated after.
 */

/** A named audience: a user belongs to it through any one of the three kinds. */
export interface PolicySubject {
  readonly name: string;
  /** Entra group object ids; membership is transitive (nested groups count). */
  readonly entraGroups: readonly string[];
  /** Lower-cased email addresses. */
  readonly emails: readonly string[];
  /** Slack member ids, e.g. `U0123ABCD`. */
  readonly slackUsers: readonly string[];
}

/** One entry of a rule's `commands`: leading words, `*` standing for exactly one word. */
export interface CommandPattern {
  /** As written, e.g. `store * put`. */
  readonly text: string;
  /** The words to match; empty for a lone `*`, which matches every command. */
  readonly words: readonly string[];
}

/** A second person (or more) must approve before the command runs. */
export interface ApprovalRequirement {
  /** Subject names whose members may approve (never the requester). */
  readonly from: readonly string[];
  /** Distinct approvals needed. */
  readonly count: number;
  /** How long the request stays open. */
  readonly expiresMs: number;
}

interface RuleBase {
  /** Position in `rules`, from 0: what `rules[1]` in messages refers to. */
  readonly index: number;
  readonly commands: readonly CommandPattern[];
  /** Channel ids, `dm` or `*`; `null` when the rule leaves channels out (any channel). */
  readonly channels: readonly string[] | null;
  /** Line of the rule in its file, when it came from one. */
  readonly line?: number;
}

export interface AllowRule extends RuleBase {
  readonly kind: "allow";
  /** Subject names; a user in any of them passes. */
  readonly allow: readonly string[];
  readonly approval: ApprovalRequirement | null;
}

export interface DenyRule extends RuleBase {
  readonly kind: "deny";
  /** Shown to the user as it is. */
  readonly reason: string;
}

export type PolicyRule = AllowRule | DenyRule;

export interface Policy {
  /** Where it came from (a path, or `default policy`), for explanations. */
  readonly source: string;
  readonly subjects: ReadonlyMap<string, PolicySubject>;
  /** First match wins. */
  readonly rules: readonly PolicyRule[];
}

/** `rules[1] (line 7)`: how explanations point at a rule. */
export function ruleLabel(rule: PolicyRule): string {
  return rule.line === undefined ? `rules[${rule.index}]` : `rules[${rule.index}] (line ${rule.line})`;
}

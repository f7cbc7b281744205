import type { ApprovalRequest } from "@victoria/core/approvals/approval";
import {
  type ApprovalFlow,
  createApprovalFlow,
  type HeldJobResult,
} from "@victoria/core/approvals/approval-flow";
import type { Logger } from "@victoria/core/logging/json-logger";
import type { Policy } from "@victoria/core/policy/policy";
import { createPolicyGate, type PolicyGate } from "@victoria/core/policy/policy-gate";
import { policyLoader } from "@victoria/core/policy/policy-source";
import type { Chat } from "@victoria/core/ports";
import type { AuditLog } from "@victoria/core/security/audit-log";
import {
  createDirectoryFromEnv,
  createGroupMembershipFromEnv,
} from "@victoria/core/security/directory-from-env";
import { readBucketObject } from "./engine-config-source";
import type { Env } from "./settings";
import { createApprovalStore } from "./storage-from-env";

/**
 * The command policy the operator configured (undefined: none, the SRE group runs everything);
 * `VICTORIA_POLICY=s3://…` is read with the function's own role, as `VICTORIA_CONFIG` is.
 */
export function loadPolicyFromEnv(env: Env): (() => Promise<Policy>) | undefined {
  return policyLoader(env, readBucketObject);
}

/**
 * Who may run what, where, for every front door of this process: the policy when one is configured
 * (its Entra groups through Graph), else the SRE group and SLACK_ALLOWED_MEMBERS as before.
 */
export function wirePolicyGate(env: Env, chat: Chat, allowedMembers?: ReadonlySet<string>): PolicyGate {
  const policy = loadPolicyFromEnv(env);
  const groups = createGroupMembershipFromEnv(env);
  return createPolicyGate({
    chat,
    directory: createDirectoryFromEnv(env),
    ...(allowedMembers ? { allowedMembers } : {}),
    ...(policy ? { policy } : {}),
    ...(groups ? { groups } : {}),
  });
}

export interface ApprovalWiring {
  env: Env;
  chat: Chat;
  gate: PolicyGate;
  audit: AuditLog;
  logger: Logger;
  /** Runs an approved request's held job (a command or a click), by its kind. */
  run(request: ApprovalRequest): Promise<HeldJobResult>;
}

/** Approvals with their state beside the vault (S3 on AWS, files locally). */
export function wireApprovalFlow({ env, chat, gate, audit, logger, run }: ApprovalWiring): ApprovalFlow {
  return createApprovalFlow({ chat, store: createApprovalStore(env), gate, audit, logger, run });
}

import { createDirectoryFromEnv, createGroupMembershipFromEnv } from "../security/directory-from-env";
import { withSreGroup } from "./default-policy";
import type { Policy } from "./policy";
import { type BucketReader, type PolicyEnv, policyLoader } from "./policy-source";
import { createUnconfiguredSubjectDirectory, type SubjectDirectory } from "./subject-directory";

/** The command policy of this deployment, as `victoria policy` shows and checks it. */
export interface ConfiguredPolicy {
  /** The operator's policy; `undefined` when none is configured (the default policy applies). */
  policy: Policy | undefined;
  /** Where it was configured, e.g. `VICTORIA_POLICY (s3://vault/policy.yaml)`; `undefined` without one. */
  source: string | undefined;
  /**
   * Answers the Entra groups of the policy that applies: the operator's subjects' groups (Graph), or,
   * without a policy, the SRE group of the default policy. `undefined` when no group can be looked up
   * here (subjects naming groups are then refused, as the gate refuses them).
   */
  groups: SubjectDirectory | undefined;
}

/** Reads the configured policy; rejects with a PolicyError (invalid) or an Error (unreadable). */
export type ConfiguredPolicyFactory = () => Promise<ConfiguredPolicy>;

function sourceOf(env: PolicyEnv): string | undefined {
  if (env.VICTORIA_POLICY_YAML) return "VICTORIA_POLICY_YAML";
  const location = env.VICTORIA_POLICY?.trim();
  return location ? `VICTORIA_POLICY (${location})` : undefined;
}

/**
 * The policy `VICTORIA_POLICY` or `VICTORIA_POLICY_YAML` names (see `policyLoader`), read on first
 * use and then as the loader caches it (a bucket's object is re-read every 5 minutes); `readBucket`
 * reads `s3://` locations (hosts with the AWS SDK give it). Groups are looked up through Graph when
 * AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are set; without a policy, the SRE group
 * (SRE_MEMBERS, or Graph's SRE_GROUP_ID) answers the default policy's one subject.
 */
export function configuredPolicyFromEnv(env: PolicyEnv, readBucket?: BucketReader): ConfiguredPolicyFactory {
  let setup: { load: (() => Promise<Policy>) | undefined; groups: SubjectDirectory | undefined } | undefined;
  return async () => {
    setup ??= (() => {
      const load = policyLoader(env, readBucket);
      const graph = createGroupMembershipFromEnv(env);
      return { load, groups: load ? graph : sreGroups(env, graph) };
    })();
    const { load, groups } = setup;
    if (load === undefined) return { policy: undefined, source: undefined, groups };
    return { policy: await load(), source: sourceOf(env), groups };
  };
}

/** The default policy's SRE group, or a directory that says why it cannot be checked here. */
function sreGroups(env: PolicyEnv, graph: SubjectDirectory | undefined): SubjectDirectory {
  try {
    return withSreGroup(createDirectoryFromEnv(env), graph);
  } catch (error) {
    return createUnconfiguredSubjectDirectory((error as Error).message);
  }
}

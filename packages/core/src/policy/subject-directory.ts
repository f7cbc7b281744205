/**
 * The one outside question a policy decision asks: is this email a member of that Entra group? Graph
 * answers it in production (`createGraphGroupMembership`), a fixed table locally and in tests.
 */
export interface SubjectDirectory {
  /** Transitive membership (nested groups count). Rejects when it cannot tell; the decision fails closed. */
  inGroup(groupId: string, email: string): Promise<boolean>;
}

/** Groups given as lists of member emails (compared case-insensitively); any other group id is unknown. */
export function createStaticSubjectDirectory(
  groups: Readonly<Record<string, readonly string[]>>,
): SubjectDirectory {
  const table = new Map(
    Object.entries(groups).map(([id, emails]) => [id, new Set(emails.map((e) => e.trim().toLowerCase()))]),
  );
  return {
    async inGroup(groupId, email) {
      const members = table.get(groupId);
      if (members === undefined) throw new Error(`No group ${groupId} is configured`);
      return members.has(email.trim().toLowerCase());
    },
  };
}

/**
 * For a setup without Microsoft Graph: every group look-up fails, so a policy naming `entraGroups` refuses
 * (fail closed) with a message that says what is missing, while emails and Slack ids still work.
 */
export function createUnconfiguredSubjectDirectory(hint: string): SubjectDirectory {
  return {
    async inGroup(groupId) {
      throw new Error(`Cannot check Entra group ${groupId}: ${hint}`);
    },
  };
}

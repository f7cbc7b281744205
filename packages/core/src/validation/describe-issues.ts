/**
 * Turns zod issues into `field.path: message; ...` so the user knows what to fix. Kept apart from
 * the config loader so routes that validate bodies do not pull the YAML parser into their bundles.
 */
export function describeIssues(error: {
  issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>;
}): string {
  return error.issues
    .map(
      (issue) =>
        `${issue.path.length > 0 ? issue.path.map(String).join(".") : "(top level)"}: ${issue.message}`,
    )
    .join("; ");
}

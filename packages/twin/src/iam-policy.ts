/**
 * Identity-based IAM as AWS evaluates a role's Allow statements, for the twin: each Lambda function
 * of the deployment is a principal with its own access key id and the grants `sst.config.ts` gives
 * it; every AWS call it makes is checked here by the stand-in that serves the call.
 *
 * Matching is IAM's: an action matches case-insensitively (`s3:get*` covers `s3:GetObject`), a
 * resource ARN case-sensitively. In both, `*` stands for any run of characters and `?` for exactly
 * one. In a resource, wildcards stay within an ARN segment (the parts between colons), except a `*`
 * that ends a segment, which may run on past colons: `arn:aws:s3:::vault/*` covers every key
 * (slashes and colons included), `arn:aws:lambda:*:*:function:app-*` a function's aliases too,
 * `arn:aws:lambda:eu-*-1:…` only regions in its own segment.
 *
 * Only Allow statements without conditions: no Deny, NotAction, NotResource, policy variables or
 * resource-based policies. Anything no grant allows is refused (the implicit deny).
 */

/** One Allow statement: any of `actions` on any of `resources` (ARNs, wildcards allowed). */
export interface Grant {
  actions: string[];
  resources: string[];
}

/** A function of the deployment as IAM sees it; `name` is the function id, e.g. "Worker". */
export interface Principal {
  name: string;
  grants: Grant[];
}

/** One authorization asked of an authority, and its answer. */
export interface AccessCheck {
  accessKeyId: string;
  /** The principal holding the access key id; undefined when none does (refused as an unknown key). */
  principal: string | undefined;
  action: string;
  resource: string;
  allowed: boolean;
}

export interface IamAuthorityOptions {
  /** Called with every check as it is made, e.g. to log refusals. */
  onCheck?: (check: AccessCheck) => void;
}

export interface IamAuthority {
  /** Gives `principal` the access key id `accessKeyId` (replacing whoever held it). */
  addPrincipal(accessKeyId: string, principal: Principal): void;
  /**
   * Whether the holder of `accessKeyId` may perform `action` on `resource`, recorded in `checks`.
   * An unknown key is refused with `principal: undefined`. Fits the stand-ins' `authorize` option
   * as it is (`authorize: authority.authorize`).
   */
  authorize(accessKeyId: string, action: string, resource: string): AccessCheck;
  /** Every check made, in order. */
  readonly checks: readonly AccessCheck[];
}

/** A regular expression source for `text` taken literally. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** IAM's action match: case-insensitive; `*` is any run of characters, `?` exactly one. */
export function actionMatches(pattern: string, action: string): boolean {
  const source = pattern
    .split("")
    .map((c) => (c === "*" ? "[\\s\\S]*" : c === "?" ? "[\\s\\S]" : literal(c)))
    .join("");
  return new RegExp(`^${source}$`, "i").test(action);
}

/**
 * IAM's resource match: case-sensitive; `?` is one character and `*` any run of characters within
 * an ARN segment (between colons), except that a `*` ending a segment (or the pattern) may run on
 * past colons.
 */
export function resourceMatches(pattern: string, resource: string): boolean {
  const source = pattern
    .split("")
    .map((c, i) => {
      if (c === "?") return "[^:]";
      if (c !== "*") return literal(c);
      const next = pattern[i + 1];
      return next === undefined || next === ":" ? "[\\s\\S]*" : "[^:]*";
    })
    .join("");
  return new RegExp(`^${source}$`).test(resource);
}

/** Whether any grant allows `action` on `resource`. */
export function isAllowed(grants: readonly Grant[], action: string, resource: string): boolean {
  return grants.some(
    (grant) =>
      grant.actions.some((pattern) => actionMatches(pattern, action)) &&
      grant.resources.some((pattern) => resourceMatches(pattern, resource)),
  );
}

/** Maps access key ids to principals; `authorize` answers and records each check. */
export function createIamAuthority(options: IamAuthorityOptions = {}): IamAuthority {
  const principals = new Map<string, Principal>();
  const checks: AccessCheck[] = [];

  return {
    addPrincipal(accessKeyId, principal) {
      principals.set(accessKeyId, principal);
    },
    authorize(accessKeyId, action, resource) {
      const principal = principals.get(accessKeyId);
      const check: AccessCheck = {
        accessKeyId,
        principal: principal?.name,
        action,
        resource,
        allowed: principal !== undefined && isAllowed(principal.grants, action, resource),
      };
      checks.push(check);
      options.onCheck?.(check);
      return check;
    },
    checks,
  };
}

import type { TokenCredential } from "@azure/identity";
import type { Directory } from "../../ports";

/**
 * The SRE group in Entra ID, read through Microsoft Graph with an app's credential.
 *
 * Strategy: one paged listing of the group's *transitive* user members,
 * `GET /groups/{id}/transitiveMembers/microsoft.graph.user?$select=...&$top=999`, following every
 * `@odata.nextLink`, turned into a set of lower-cased addresses (mail, userPrincipalName, otherMails and
 * SMTP proxyAddresses) that is cached for `cacheTtlMs`. Why this and not a per-user query:
 * - Graph expands nested groups server-side and returns each user once; no recursion or cycle handling here.
 * - One refresh (a page or two for a team-sized group) answers every user for the TTL, so a burst of Slack
 *   commands costs no Graph calls, and non-members are answered from the same set.
 * - A per-user `GET /users/{email}/transitiveMemberOf/...` only finds users by id or userPrincipalName, not by
 *   mail or aliases (guests' UPNs look like `alice_example.com#EXT#@...`), needs `ConsistencyLevel: eventual`
 *   for `$filter`+`$count`, and costs a call per look-up.
 * The price: membership changes show after at most one TTL, and a huge group costs a few pages per TTL.
 * Permissions (application): `GroupMember.Read.All` and `User.Read.All` (for otherMails/proxyAddresses).
 *
 * Fails closed: a Graph or token failure rejects with {@link DirectoryError}; it is not cached, so the next
 * call tries again, and callers waiting on the same refresh share its one outcome.
 */
export interface GraphDirectoryOptions {
  credential: TokenCredential;
  /** Object id of the group. */
  groupId: string;
  /** Graph base URL incl. version; default `https://graph.microsoft.com/v1.0` (sovereign clouds differ). */
  graphApiUrl?: string;
  /** How long one member listing is trusted; default 5 minutes. */
  cacheTtlMs?: number;
  /** `$top` of each page; default 999, Graph's maximum for directory objects. */
  pageSize?: number;
  /** The longest `Retry-After` honoured (once per request) before giving up; default 10 s. */
  maxRetryAfterMs?: number;
  /** Time limit of each Graph request; default 10 s. */
  requestTimeoutMs?: number;
  fetch?: GraphFetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The part of `fetch` used here; `globalThis.fetch` is one. */
export type GraphFetch = (url: string, init: RequestInit) => Promise<Response>;

/** The directory could not be read: a token could not be had, or Graph refused or failed. */
export class DirectoryError extends Error {
  override readonly name = "DirectoryError";
  constructor(
    message: string,
    /** HTTP status from Graph, when Graph answered. */
    readonly status?: number,
    /** Graph's (or Entra's) error code, e.g. `Request_ResourceNotFound`. */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const DEFAULT_GRAPH_API_URL = "https://graph.microsoft.com/v1.0";
const DEFAULT_TTL_MS = 5 * 60_000;
const MAX_PAGES = 1000;
const SELECT = "mail,userPrincipalName,otherMails,proxyAddresses";

/**
 * The app-permission scope for a Graph base URL: its origin + `/.default`, so public Graph, national clouds
 * (`https://graph.microsoft.us`, `https://microsoftgraph.chinacloudapi.cn`) and stand-ins each get theirs.
 */
export function graphScopeFor(graphApiUrl: string): string {
  return `${new URL(graphApiUrl).origin}/.default`;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

function graphBase(graphApiUrl: string): URL {
  let url: URL;
  try {
    url = new URL(graphApiUrl);
  } catch {
    throw new Error(`The Microsoft Graph URL is not a URL: ${graphApiUrl}`);
  }
  // Bearer tokens travel only over TLS, except to a stand-in on this machine.
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname))) {
    throw new Error(`The Microsoft Graph URL must use https: ${url.origin}`);
  }
  return url;
}

/** Addresses a Graph user can be known by, lower-cased: mail, UPN, otherMails, `smtp:` proxy addresses. */
function addressesOf(user: unknown): string[] {
  const u = (user ?? {}) as Record<string, unknown>;
  const strings = (value: unknown): string[] =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  const candidates = [
    u.mail,
    u.userPrincipalName,
    ...strings(u.otherMails),
    ...strings(u.proxyAddresses)
      .filter((address) => /^smtp:/i.test(address))
      .map((address) => address.slice(5)),
  ];
  return candidates
    .filter((value): value is string => typeof value === "string")
    .map((value) => value.trim().toLowerCase())
    .filter(Boolean);
}

/** Seconds or an HTTP date, as Graph may send; undefined when absent or unreadable. */
function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

async function graphErrorOf(response: Response): Promise<{ code?: string; message?: string }> {
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    return {
      code: typeof body.error?.code === "string" ? body.error.code : undefined,
      message: typeof body.error?.message === "string" ? body.error.message : undefined,
    };
  } catch {
    return {};
  }
}

function hintFor(status: number, groupId: string, missingGroupHint: string): string {
  if (status === 401) return "Graph rejected the app's token";
  if (status === 403) {
    return "the app lacks Graph permission; grant GroupMember.Read.All and User.Read.All (application) with admin consent";
  }
  if (status === 404) return `no group with object id ${groupId}; ${missingGroupHint}`;
  if (status === 429) return "Graph is throttling the app";
  if (status >= 500) return "Graph is unavailable";
  return "Graph refused the request";
}

/** Options of {@link createGraphGroupMembership}: those of the SRE directory, for any group. */
export interface GraphGroupMembershipOptions extends Omit<GraphDirectoryOptions, "groupId"> {
  /** What a 404 for a group id tells the operator to check; default "check the group's object id". */
  missingGroupHint?: string;
}

/** Transitive membership of any Entra group (the command policy's `entraGroups`). */
export interface GraphGroupMembership {
  inGroup(groupId: string, email: string): Promise<boolean>;
}

/**
 * The SRE directory's strategy (paged transitive listing, cached per group for `cacheTtlMs`, concurrent
 * callers sharing one refresh, failures not cached) for any number of groups, with one credential.
 * The cache holds one entry per group id asked about: the ids come from configuration, not from users.
 */
export function createGraphGroupMembership(options: GraphGroupMembershipOptions): GraphGroupMembership {
  const { credential } = options;
  const base = graphBase(options.graphApiUrl ?? DEFAULT_GRAPH_API_URL);
  const basePath = base.href.replace(/\/+$/, "");
  const scope = graphScopeFor(base.href);
  const ttl = options.cacheTtlMs ?? DEFAULT_TTL_MS;
  const pageSize = options.pageSize ?? 999;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 10_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const missingGroupHint = options.missingGroupHint ?? "check the group's object id";
  const fetchFn: GraphFetch = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  const cached = new Map<string, { emails: ReadonlySet<string>; expiresAt: number }>();
  const refreshing = new Map<string, Promise<ReadonlySet<string>>>();

  async function accessToken(what: string): Promise<string> {
    // Asked once per refresh; the credential (MSAL) caches the token until shortly before it expires.
    let token: Awaited<ReturnType<TokenCredential["getToken"]>>;
    try {
      token = await credential.getToken(scope);
    } catch (error) {
      const e = error as { name?: string; message?: string };
      throw new DirectoryError(
        `Could not get a Microsoft Graph token (${scope}) to read ${what}: ${e.name ?? "Error"}: ${e.message ?? String(error)}`,
        undefined,
        undefined,
        { cause: error },
      );
    }
    if (!token?.token) throw new DirectoryError(`The credential returned no token for ${scope}`);
    return token.token;
  }

  async function getPage(url: string, token: string, groupId: string, what: string): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetchFn(url, {
          method: "GET",
          headers: { authorization: `Bearer ${token}`, accept: "application/json" },
          signal: AbortSignal.timeout(requestTimeoutMs),
        });
      } catch (error) {
        throw new DirectoryError(
          `Could not reach Microsoft Graph at ${base.origin} to read ${what}: ${(error as Error).message}`,
          undefined,
          undefined,
          { cause: error },
        );
      }
      if (response.ok) return response;
      const wait = retryAfterMs(response.headers.get("retry-after"), now());
      // Throttled (or briefly unavailable with a Retry-After): wait as told, once, if the wait is bounded.
      const retryable = response.status === 429 || (response.status === 503 && wait !== undefined);
      if (retryable && attempt === 0 && (wait ?? 1000) <= maxRetryAfterMs) {
        await response.body?.cancel();
        await sleep(wait ?? 1000);
        continue;
      }
      const { code, message } = await graphErrorOf(response);
      const after = wait === undefined ? "" : `; retry after ${Math.ceil(wait / 1000)} s`;
      throw new DirectoryError(
        `Microsoft Graph refused reading ${what}: HTTP ${response.status} ${code ?? "(no error code)"}` +
          `${message ? `: ${message}` : ""} (${hintFor(response.status, groupId, missingGroupHint)}${after})`,
        response.status,
        code,
      );
    }
  }

  async function load(groupId: string): Promise<ReadonlySet<string>> {
    const what = `members of group ${groupId}`;
    const token = await accessToken(what);
    const emails = new Set<string>();
    let url: string | undefined =
      `${basePath}/groups/${encodeURIComponent(groupId)}/transitiveMembers/microsoft.graph.user` +
      `?$select=${SELECT}&$top=${pageSize}`;
    for (let pages = 0; url !== undefined; pages++) {
      if (pages >= MAX_PAGES) throw new DirectoryError(`Gave up reading ${what} after ${MAX_PAGES} pages`);
      const response = await getPage(url, token, groupId, what);
      let body: { value?: unknown; "@odata.nextLink"?: unknown };
      try {
        body = (await response.json()) as typeof body;
      } catch (error) {
        throw new DirectoryError(
          `Microsoft Graph sent a page of ${what} that is not JSON`,
          response.status,
          undefined,
          {
            cause: error,
          },
        );
      }
      if (!Array.isArray(body.value)) {
        throw new DirectoryError(
          `Microsoft Graph sent a page of ${what} without a value array`,
          response.status,
        );
      }
      for (const user of body.value) for (const address of addressesOf(user)) emails.add(address);
      const next = body["@odata.nextLink"];
      if (typeof next === "string") {
        // The token goes only back to Graph's own origin, whatever a next link says.
        if (new URL(next, base).origin !== base.origin) {
          throw new DirectoryError(`Microsoft Graph sent a next link to another origin than ${base.origin}`);
        }
        url = new URL(next, base).href;
      } else {
        url = undefined;
      }
    }
    return emails;
  }

  function members(groupId: string): Promise<ReadonlySet<string>> {
    const entry = cached.get(groupId);
    if (entry !== undefined && now() < entry.expiresAt) return Promise.resolve(entry.emails);
    let refresh = refreshing.get(groupId);
    if (refresh === undefined) {
      const startedAt = now();
      refresh = load(groupId)
        .then((emails) => {
          cached.set(groupId, { emails, expiresAt: startedAt + ttl });
          return emails;
        })
        .finally(() => {
          refreshing.delete(groupId);
        });
      refreshing.set(groupId, refresh);
    }
    return refresh;
  }

  return {
    async inGroup(groupId: string, email: string): Promise<boolean> {
      if (!groupId.trim()) throw new DirectoryError("The Entra group id is empty");
      const wanted = email.trim().toLowerCase();
      if (!wanted) return false;
      return (await members(groupId)).has(wanted);
    },
  };
}

export function createGraphDirectory(options: GraphDirectoryOptions): Directory {
  const { groupId } = options;
  if (!groupId.trim()) throw new Error("The SRE group id is empty");
  const membership = createGraphGroupMembership({ ...options, missingGroupHint: "check SRE_GROUP_ID" });
  return {
    isMember: (email: string): Promise<boolean> => membership.inGroup(groupId, email),
  };
}

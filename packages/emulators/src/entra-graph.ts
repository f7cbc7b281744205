import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer, request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { readBody, sendJson } from "./http-io";
import { createSelfSignedCert, type SelfSignedCert } from "./self-signed-cert";

/**
 * A loopback stand-in for the Entra ID (Azure AD) v2.0 token endpoint and the slice of Microsoft Graph that
 * group-membership checks use, good enough for the REAL `ClientSecretCredential` of `@azure/identity`:
 *
 * - `GET /{tenant}/v2.0/.well-known/openid-configuration` — the discovery document MSAL reads first;
 * - `POST /{tenant}/oauth2/v2.0/token` — `client_credentials` with `client_secret`, checking the client id,
 *   secret and scope (`<graph origin>/.default`) and answering errors with Entra's AADSTS-style JSON;
 * - `GET /v1.0/groups/{id}/transitiveMembers[/microsoft.graph.user|/microsoft.graph.group]` with `$select`,
 *   `$top` and `$skiptoken` paging through absolute `@odata.nextLink`s, nested groups flattened (cycle-safe);
 * - `GET /v1.0/users/{id|userPrincipalName}/transitiveMemberOf[/microsoft.graph.group]` likewise.
 *
 * Graph answers only to bearer tokens this stand-in issued for its own origin, not yet expired.
 * MSAL's instance discovery always goes to login.microsoftonline.com, never to this host, so credentials must
 * be built with `disableInstanceDiscovery: true`; `@azure/identity` also insists on an `https:` authority,
 * hence HTTPS by default with a self-signed certificate, trusted per client through `tlsOptions: { ca }`.
 */
export interface EntraGraphStandInOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /**
   * HTTPS certificate; by default a fresh self-signed one (read `ca` to trust it). `false` serves plain HTTP,
   * which suits Graph-only tests but not `ClientSecretCredential` (it refuses non-https authorities).
   */
  tls?: SelfSignedCert | false;
  host?: string;
  port?: number;
  /** `expires_in` of issued tokens; default 3599 as Entra does. */
  tokenLifetimeSeconds?: number;
  /**
   * Other resources the app may get tokens for (e.g. `https://vault.azure.net`), besides this
   * stand-in's Graph; their stand-ins check tokens with `acceptsToken`.
   */
  resources?: readonly string[];
}

export interface StandInUser {
  /** Object id; a fresh GUID by default. */
  id?: string;
  userPrincipalName: string;
  mail?: string | null;
  otherMails?: string[];
  proxyAddresses?: string[];
  displayName?: string;
}

export interface StandInGroup {
  /** Object ids of users or groups, direct members; may name objects added later. */
  members: readonly string[];
  displayName?: string;
}

export interface EntraGraphStandInCounts {
  /** OpenID discovery documents served. */
  discoveryRequests: number;
  /** Calls to the token endpoint, whether they succeeded or not. */
  tokenRequests: number;
  /** Calls to Graph (`/v1.0/...`), whatever their outcome. */
  graphRequests: number;
}

export interface EntraGraphStandIn {
  /** What `ClientSecretCredential` takes as `authorityHost`, e.g. `https://127.0.0.1:54321`. */
  authorityHost: string;
  /** Graph base URL, e.g. `https://127.0.0.1:54321/v1.0`. */
  graphApiUrl: string;
  /** The only scope the token endpoint grants: `<origin>/.default` (this stand-in's Graph resource id). */
  graphScope: string;
  /** The PEM certificate to trust (`tlsOptions: { ca }`), or undefined over plain HTTP. */
  ca: string | undefined;
  /** Adds (or replaces) a user; returns its object id. */
  addUser(user: StandInUser): string;
  /** Adds or replaces a group. */
  addGroup(id: string, group: StandInGroup): void;
  /** The next `n` Graph requests get `429 TooManyRequests` with `Retry-After: retryAfterSeconds`. */
  throttleNext(n: number, retryAfterSeconds: number): void;
  /** The next `n` Graph requests fail with this status and Graph error code (e.g. 403, 503). */
  failNext(
    n: number,
    failure: { status: number; code: string; message?: string; retryAfterSeconds?: number },
  ): void;
  /** Whether `token` was issued here for `resource` and has not expired (for other stand-ins' checks). */
  acceptsToken(token: string, resource: string): boolean;
  /** Forgets every issued token, as if they had been revoked: Graph answers 401 until a new one is fetched. */
  revokeTokens(): void;
  /** Live request counters. */
  readonly counts: Readonly<EntraGraphStandInCounts>;
  close(): Promise<void>;
}

/** An answer with a status, a JSON body and extra headers; thrown by handlers, turned into a response. */
class Reply extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

interface IssuedToken {
  audience: string;
  expiresAt: number;
}

interface Failure {
  status: number;
  code: string;
  message: string;
  retryAfterSeconds?: number;
}

const MAX_PAGE_SIZE = 999;
const DEFAULT_PAGE_SIZE = 100;

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, body, { "cache-control": "no-store", ...headers });
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startEntraGraphStandIn(options: EntraGraphStandInOptions): Promise<EntraGraphStandIn> {
  const tls = options.tls === undefined ? createSelfSignedCert() : options.tls;
  const host = options.host ?? "127.0.0.1";
  const lifetime = options.tokenLifetimeSeconds ?? 3599;
  const users = new Map<string, StandInUser & { id: string }>();
  const groups = new Map<string, StandInGroup>();
  const tokens = new Map<string, IssuedToken>();
  const failures: Failure[] = [];
  const counts: EntraGraphStandInCounts = { discoveryRequests: 0, tokenRequests: 0, graphRequests: 0 };
  let origin = "";
  /** Resource ids the token endpoint grants: this Graph (known once listening) and the options'. */
  const grantable = new Set((options.resources ?? []).map((r) => r.replace(/\/+$/, "")));

  // ---- Entra ID: discovery and token endpoint -------------------------------------------------------------

  /** Entra's OAuth error body: `AADSTSnnnnnnn: ...` in the description, the number in `error_codes`. */
  function oauthError(status: number, error: string, aadsts: number, description: string): Reply {
    return new Reply(status, {
      error,
      error_description: `AADSTS${aadsts}: ${description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
      error_codes: [aadsts],
      timestamp: new Date().toISOString(),
      trace_id: randomUUID(),
      correlation_id: randomUUID(),
      error_uri: `${origin}/error?code=${aadsts}`,
    });
  }

  function checkTenant(tenant: string): void {
    if (tenant !== options.tenantId) {
      throw oauthError(400, "invalid_tenant", 90002, `Tenant '${tenant}' not found.`);
    }
  }

  function discoveryDocument(tenant: string) {
    const base = `${origin}/${tenant}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${origin}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver"],
      tenant_region_scope: "EU",
      cloud_instance_name: "stand-in",
      cloud_graph_host_name: new URL(origin).host,
      msgraph_host: new URL(origin).host,
    };
  }

  async function token(req: IncomingMessage, tenant: string) {
    counts.tokenRequests++;
    checkTenant(tenant);
    const form = new URLSearchParams(await readBody(req));
    const grantType = form.get("grant_type");
    if (grantType !== "client_credentials") {
      throw oauthError(
        400,
        "unsupported_grant_type",
        70003,
        `The app requested an unsupported grant type '${grantType ?? ""}'.`,
      );
    }
    const clientId = form.get("client_id") ?? "";
    if (clientId !== options.clientId) {
      throw oauthError(
        400,
        "unauthorized_client",
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
      );
    }
    const secret = form.get("client_secret");
    if (secret === null) {
      throw oauthError(
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    if (!sameSecret(secret, options.clientSecret)) {
      throw oauthError(
        401,
        "invalid_client",
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      );
    }
    const scopes = (form.get("scope") ?? "").split(" ").filter(Boolean);
    const resources = scopes.filter((scope) => scope.endsWith("/.default"));
    if (resources.length !== 1) {
      throw oauthError(
        400,
        "invalid_scope",
        1002012,
        `The provided value for scope ${scopes.join(" ")} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    const audience = (resources[0] ?? "").slice(0, -"/.default".length).replace(/\/+$/, "");
    if (!grantable.has(audience)) {
      throw oauthError(
        400,
        "invalid_resource",
        500011,
        `The resource principal named ${audience} was not found in the tenant named ${tenant}.`,
      );
    }
    const now = Math.floor(Date.now() / 1000);
    // JWT-shaped (what clients expect to see) but opaque to them; Graph here trusts only its own table.
    const accessToken = [
      base64url({ typ: "JWT", alg: "RS256", kid: "stand-in" }),
      base64url({
        aud: audience,
        iss: `${origin}/${tenant}/v2.0`,
        iat: now,
        nbf: now,
        exp: now + lifetime,
        appid: clientId,
        tid: tenant,
        roles: ["GroupMember.Read.All", "User.Read.All"],
        jti: randomUUID(),
      }),
      randomBytes(32).toString("base64url"),
    ].join(".");
    tokens.set(accessToken, { audience, expiresAt: Date.now() + lifetime * 1000 });
    return {
      token_type: "Bearer",
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: accessToken,
    };
  }

  // ---- Microsoft Graph -------------------------------------------------------------------------------------

  function graphError(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    const date = new Date().toISOString().slice(0, 19);
    const requestId = randomUUID();
    return new Reply(
      status,
      {
        error: {
          code,
          message,
          innerError: { date, "request-id": requestId, "client-request-id": requestId },
        },
      },
      headers,
    );
  }

  function authenticate(req: IncomingMessage): void {
    const header = req.headers.authorization ?? "";
    const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (bearer === undefined) {
      throw graphError(401, "InvalidAuthenticationToken", "Access token is empty.");
    }
    const issued = tokens.get(bearer);
    if (issued === undefined || issued.audience !== origin) {
      throw graphError(
        401,
        "InvalidAuthenticationToken",
        "Access token validation failure. Invalid audience.",
      );
    }
    if (issued.expiresAt <= Date.now()) {
      throw graphError(
        401,
        "InvalidAuthenticationToken",
        "Lifetime validation failed, the token is expired.",
      );
    }
  }

  function notFound(id: string): Reply {
    return graphError(
      404,
      "Request_ResourceNotFound",
      `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
    );
  }

  function userJson(user: StandInUser & { id: string }) {
    return {
      "@odata.type": "#microsoft.graph.user",
      id: user.id,
      displayName: user.displayName ?? user.userPrincipalName,
      userPrincipalName: user.userPrincipalName,
      mail: user.mail ?? null,
      otherMails: user.otherMails ?? [],
      proxyAddresses: user.proxyAddresses ?? [],
    };
  }

  function groupJson(id: string, group: StandInGroup) {
    return { "@odata.type": "#microsoft.graph.group", id, displayName: group.displayName ?? id };
  }

  /** Every user and group under a group, depth first, each once, cycles cut. */
  function transitiveMembers(groupId: string): Array<Record<string, unknown>> {
    const seen = new Set<string>([groupId]);
    const out: Array<Record<string, unknown>> = [];
    const visit = (id: string) => {
      for (const member of groups.get(id)?.members ?? []) {
        if (seen.has(member)) continue;
        seen.add(member);
        const user = users.get(member);
        const group = groups.get(member);
        if (user) out.push(userJson(user));
        else if (group) {
          out.push(groupJson(member, group));
          visit(member);
        }
        // Members that name nothing (deleted objects) are skipped, as Graph does.
      }
    };
    visit(groupId);
    return out;
  }

  /** Every group a user is in, directly or through nested groups. */
  function transitiveMemberOf(userId: string): Array<Record<string, unknown>> {
    return [...groups.entries()]
      .filter(([id]) => transitiveMembers(id).some((member) => member.id === userId))
      .map(([id, group]) => groupJson(id, group));
  }

  function findUser(idOrUpn: string) {
    const lower = idOrUpn.toLowerCase();
    return (
      users.get(idOrUpn) ?? [...users.values()].find((user) => user.userPrincipalName.toLowerCase() === lower)
    );
  }

  /** `$select`, then `$top`/`$skiptoken` paging with an absolute `@odata.nextLink`. */
  function page(url: URL, items: Array<Record<string, unknown>>, context: string) {
    const topText = url.searchParams.get("$top");
    const top = topText === null ? DEFAULT_PAGE_SIZE : Number(topText);
    if (!Number.isInteger(top) || top < 1 || top > MAX_PAGE_SIZE) {
      throw graphError(
        400,
        "Request_BadRequest",
        `Invalid page size specified: '${topText}'. Must be between 1 and ${MAX_PAGE_SIZE} inclusive.`,
      );
    }
    const skipToken = url.searchParams.get("$skiptoken");
    let offset = 0;
    if (skipToken !== null) {
      const decoded = Number(
        Buffer.from(skipToken, "base64url")
          .toString("utf8")
          .replace(/^offset:/, ""),
      );
      if (!Number.isInteger(decoded) || decoded < 0) {
        throw graphError(400, "Directory_ExpiredPageToken", "The specified page token value has expired.");
      }
      offset = decoded;
    }
    const select = url.searchParams
      .get("$select")
      ?.split(",")
      .map((name) => name.trim())
      .filter(Boolean);
    const value = items.slice(offset, offset + top).map((item) => {
      if (select === undefined) return item;
      const projected: Record<string, unknown> = { "@odata.type": item["@odata.type"] };
      for (const name of select) projected[name] = item[name] ?? null;
      return projected;
    });
    const body: Record<string, unknown> = {
      "@odata.context": `${origin}/v1.0/$metadata#${context}`,
      value,
    };
    if (offset + top < items.length) {
      const next = new URL(url.pathname, origin);
      for (const [key, val] of url.searchParams) if (key !== "$skiptoken") next.searchParams.set(key, val);
      next.searchParams.set("$skiptoken", Buffer.from(`offset:${offset + top}`).toString("base64url"));
      body["@odata.nextLink"] = next.toString();
    }
    return body;
  }

  function castFilter(cast: string | undefined): (item: Record<string, unknown>) => boolean {
    if (cast === undefined) return () => true;
    if (cast === "microsoft.graph.user" || cast === "microsoft.graph.group") {
      return (item) => item["@odata.type"] === `#${cast}`;
    }
    throw graphError(400, "BadRequest", `Resource not found for the segment '${cast}'.`);
  }

  function graph(req: IncomingMessage, url: URL) {
    counts.graphRequests++;
    const failure = failures.shift();
    if (failure !== undefined) {
      const headers: Record<string, string> =
        failure.retryAfterSeconds === undefined ? {} : { "retry-after": String(failure.retryAfterSeconds) };
      throw graphError(failure.status, failure.code, failure.message, headers);
    }
    authenticate(req);
    if (req.method !== "GET") {
      throw graphError(405, "Request_BadRequest", `The HTTP method '${req.method}' is not allowed.`);
    }
    const segments = url.pathname.split("/").filter(Boolean).slice(1).map(decodeURIComponent);
    const [collection, id, navigation, cast, ...rest] = segments;
    if (id === undefined || rest.length > 0) {
      throw graphError(400, "BadRequest", `Resource not found for the segment '${url.pathname}'.`);
    }
    if (collection === "groups" && navigation === "transitiveMembers") {
      const group = groups.get(id);
      if (group === undefined) throw notFound(id);
      const keep = castFilter(cast);
      return page(url, transitiveMembers(id).filter(keep), "directoryObjects");
    }
    if (collection === "users" && navigation === "transitiveMemberOf") {
      const user = findUser(id);
      if (user === undefined) throw notFound(id);
      return page(url, transitiveMemberOf(user.id).filter(castFilter(cast)), "groups");
    }
    if (collection === "groups" && navigation === undefined) {
      const group = groups.get(id);
      if (group === undefined) throw notFound(id);
      return groupJson(id, group);
    }
    if (collection === "users" && navigation === undefined) {
      const user = findUser(id);
      if (user === undefined) throw notFound(id);
      return userJson(user);
    }
    throw graphError(400, "BadRequest", `Resource not found for the segment '${navigation ?? collection}'.`);
  }

  // ---- routing ------------------------------------------------------------------------------------------------

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", origin);
    const segments = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if (segments[0] === "v1.0") {
      send(res, 200, graph(req, url), { "request-id": randomUUID() });
      return;
    }
    const [tenant, ...path] = segments;
    const rest = path.join("/");
    if (tenant !== undefined && req.method === "GET" && rest === "v2.0/.well-known/openid-configuration") {
      counts.discoveryRequests++;
      checkTenant(tenant);
      send(res, 200, discoveryDocument(tenant));
      return;
    }
    if (tenant !== undefined && req.method === "POST" && rest === "oauth2/v2.0/token") {
      send(res, 200, await token(req, tenant));
      return;
    }
    throw new Reply(404, {
      error: "not_found",
      error_description: `No route for ${req.method} ${url.pathname}`,
    });
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof Reply) send(res, error.status, error.body, error.headers);
      else send(res, 500, { error: { code: "InternalServerError", message: String(error) } });
    });
  };
  const server: Server = tls === false ? createHttpServer(listener) : createHttpsServer(tls, listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const address = server.address() as AddressInfo;
  origin = `${tls === false ? "http" : "https"}://${host}:${address.port}`;
  grantable.add(origin);

  return {
    authorityHost: origin,
    graphApiUrl: `${origin}/v1.0`,
    graphScope: `${origin}/.default`,
    ca: tls === false ? undefined : tls.cert,
    addUser(user) {
      const id = user.id ?? randomUUID();
      users.set(id, { ...user, id });
      return id;
    },
    addGroup(id, group) {
      groups.set(id, { members: [...group.members], displayName: group.displayName ?? id });
    },
    throttleNext(n, retryAfterSeconds) {
      for (let i = 0; i < n; i++) {
        failures.push({
          status: 429,
          code: "TooManyRequests",
          message: "Too many requests. Please try again later.",
          retryAfterSeconds,
        });
      }
    },
    failNext(n, failure) {
      for (let i = 0; i < n; i++) {
        failures.push({ ...failure, message: failure.message ?? `Stand-in failure ${failure.code}.` });
      }
    },
    acceptsToken: (token, resource) => {
      const issued = tokens.get(token);
      return issued?.audience === resource.replace(/\/+$/, "") && issued.expiresAt > Date.now();
    },
    revokeTokens: () => tokens.clear(),
    counts,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * A `fetch` for stand-ins with a self-signed certificate: trusts `ca` for this function's requests only
 * (Node 20's global fetch cannot take a CA without the undici package, and NODE_EXTRA_CA_CERTS is read only
 * at start-up). Enough for JSON APIs: method, headers, a string body, abort signals; the body is buffered.
 */
export function createTrustingFetch(ca: string): (url: string, init?: RequestInit) => Promise<Response> {
  return (url, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const body = init.body ?? undefined;
      if (body !== undefined && typeof body !== "string") {
        reject(new TypeError("createTrustingFetch sends string bodies only"));
        return;
      }
      const headers = new Headers(init.headers);
      const req = httpsRequest(
        url,
        {
          method: init.method ?? "GET",
          headers: Object.fromEntries(headers.entries()),
          ca,
          ...(init.signal ? { signal: init.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            const responseHeaders = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
                responseHeaders.append(name, one);
              }
            }
            const status = res.statusCode ?? 500;
            const nullBody = status === 204 || status === 304;
            resolve(
              new Response(nullBody ? null : Buffer.concat(chunks), {
                status,
                statusText: res.statusMessage ?? "",
                headers: responseHeaders,
              }),
            );
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });
}

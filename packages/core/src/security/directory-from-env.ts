import type { ClientSecretCredentialOptions, TokenCredential } from "@azure/identity";
import { entraAuthority } from "../adapters/azure/entra-authority";
import {
  createGraphDirectory,
  createGraphGroupMembership,
  DEFAULT_GRAPH_API_URL,
  DirectoryError,
  type GraphFetch,
  type GraphGroupMembership,
} from "../adapters/azure/graph-directory";
import type { Directory } from "../ports";
import { createStaticDirectory, parseMemberList } from "./static-directory";

export { DirectoryError };

export type DirectoryEnv = Readonly<Record<string, string | undefined>>;

export interface DirectoryDeps {
  /** Extra options for `ClientSecretCredential`, e.g. `tlsOptions: { ca }` to trust a stand-in. */
  credentialOptions?: ClientSecretCredentialOptions;
  /** Transport for Graph calls; `globalThis.fetch` by default. */
  fetch?: GraphFetch;
  /** How long a Graph member listing is trusted; 5 minutes by default. */
  cacheTtlMs?: number;
}

/** What the Graph directory needs, in the order operators see them in the README. */
export const GRAPH_DIRECTORY_VARIABLES = [
  "AZURE_TENANT_ID",
  "AZURE_CLIENT_ID",
  "AZURE_CLIENT_SECRET",
  "SRE_GROUP_ID",
] as const;

const value = (env: DirectoryEnv, name: string): string | undefined => {
  const text = env[name]?.trim();
  return text ? text : undefined;
};

/**
 * Loads `@azure/identity` (and MSAL) only when a token is first needed, so the static directory and cold
 * starts that never reach Graph do not pay for it. Secrets are scrubbed from error messages, just in case.
 */
function lazyClientSecretCredential(
  tenantId: string,
  clientId: string,
  clientSecret: string,
  options: ClientSecretCredentialOptions,
): TokenCredential {
  let credential: Promise<TokenCredential> | undefined;
  return {
    async getToken(scopes, getTokenOptions) {
      credential ??= import("@azure/identity").then(
        ({ ClientSecretCredential }) => new ClientSecretCredential(tenantId, clientId, clientSecret, options),
      );
      try {
        return await (await credential).getToken(scopes, getTokenOptions);
      } catch (error) {
        if (error instanceof Error && error.message.includes(clientSecret)) {
          error.message = error.message.split(clientSecret).join("***");
        }
        throw error;
      }
    },
  };
}

/**
 * The SRE group as configured: `SRE_MEMBERS` (comma-separated emails) *is* the group when set; otherwise
 * Microsoft Graph with `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`, `SRE_GROUP_ID` and
 * optionally `AZURE_AUTHORITY_HOST`, `GRAPH_API_URL`. Throws an Error naming the missing variables (never
 * any value) when neither is configured.
 */
export function createDirectoryFromEnv(env: DirectoryEnv, deps: DirectoryDeps = {}): Directory {
  const members = value(env, "SRE_MEMBERS");
  if (members !== undefined) {
    if (parseMemberList(members).length === 0) throw new Error("SRE_MEMBERS lists no email addresses");
    return createStaticDirectory(members);
  }

  const missing = GRAPH_DIRECTORY_VARIABLES.filter((name) => value(env, name) === undefined);
  if (missing.length > 0) {
    throw new Error(
      `The SRE directory is not configured: set SRE_MEMBERS, or for Microsoft Graph set ${missing.join(", ")}`,
    );
  }

  const credential = credentialFromEnv(env, deps);
  try {
    return createGraphDirectory({
      credential,
      groupId: value(env, "SRE_GROUP_ID") as string,
      graphApiUrl: value(env, "GRAPH_API_URL") ?? DEFAULT_GRAPH_API_URL,
      ...(deps.cacheTtlMs === undefined ? {} : { cacheTtlMs: deps.cacheTtlMs }),
      ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
    });
  } catch (error) {
    throw new Error(`GRAPH_API_URL is not usable: ${(error as Error).message}`);
  }
}

/**
 * Transitive membership of any Entra group (a command policy's `entraGroups`), with the same app
 * credentials as the SRE group's; undefined when AZURE_TENANT_ID, AZURE_CLIENT_ID or
 * AZURE_CLIENT_SECRET is missing (a policy naming groups then refuses, saying Graph is not configured).
 */
export function createGroupMembershipFromEnv(
  env: DirectoryEnv,
  deps: DirectoryDeps = {},
): GraphGroupMembership | undefined {
  if (GRAPH_DIRECTORY_VARIABLES.slice(0, 3).some((name) => value(env, name) === undefined)) return undefined;
  try {
    return createGraphGroupMembership({
      credential: credentialFromEnv(env, deps),
      graphApiUrl: value(env, "GRAPH_API_URL") ?? DEFAULT_GRAPH_API_URL,
      ...(deps.cacheTtlMs === undefined ? {} : { cacheTtlMs: deps.cacheTtlMs }),
      ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
    });
  } catch (error) {
    throw new Error(`GRAPH_API_URL is not usable: ${(error as Error).message}`);
  }
}

function credentialFromEnv(env: DirectoryEnv, deps: DirectoryDeps): TokenCredential {
  const authority = entraAuthority(env, deps.credentialOptions?.authorityHost);
  return lazyClientSecretCredential(
    value(env, "AZURE_TENANT_ID") as string,
    value(env, "AZURE_CLIENT_ID") as string,
    value(env, "AZURE_CLIENT_SECRET") as string,
    {
      ...deps.credentialOptions,
      ...authority,
      ...(deps.credentialOptions?.disableInstanceDiscovery === undefined
        ? {}
        : { disableInstanceDiscovery: deps.credentialOptions.disableInstanceDiscovery }),
    },
  );
}

/**
 * Where `ClientSecretCredential` gets its tokens: Entra itself, or AZURE_AUTHORITY_HOST (a sovereign
 * cloud, or a stand-in). One place, so the Graph directory, Key Vault encryption and Blob storage
 * agree on it.
 */

/** Entra's own authority hosts; MSAL validates these (instance discovery). Any other host is a stand-in. */
const MICROSOFT_AUTHORITY_HOSTS = new Set([
  "login.microsoftonline.com",
  "login.microsoft.com",
  "login.windows.net",
  "sts.windows.net",
  "login.microsoftonline.us",
  "login.chinacloudapi.cn",
  "login.partner.microsoftonline.cn",
  "login.microsoftonline.de",
]);

export const DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com";

export interface EntraAuthorityOptions {
  authorityHost: string;
  disableInstanceDiscovery: boolean;
}

/**
 * The credential options for AZURE_AUTHORITY_HOST (`fallback` when unset). Passed explicitly so the
 * SDK does not read process.env when `env` is another object. Throws a plain message naming the
 * variable when it is not an https URL (`@azure/identity` refuses anything else).
 */
export function entraAuthority(
  env: Readonly<Record<string, string | undefined>>,
  fallback = DEFAULT_AUTHORITY_HOST,
): EntraAuthorityOptions {
  const authorityHost = env.AZURE_AUTHORITY_HOST?.trim() || fallback;
  let url: URL;
  try {
    url = new URL(authorityHost);
  } catch {
    throw new Error("AZURE_AUTHORITY_HOST is not a URL");
  }
  if (url.protocol !== "https:") throw new Error("AZURE_AUTHORITY_HOST must be an https URL");
  return {
    authorityHost,
    // MSAL's instance discovery asks login.microsoftonline.com about the authority; for hosts other
    // than Entra's own (stand-ins) that is a pointless call to the internet which fails offline.
    disableInstanceDiscovery: !MICROSOFT_AUTHORITY_HOSTS.has(url.hostname.toLowerCase()),
  };
}

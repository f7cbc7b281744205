import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from "node:crypto";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { readBody, sendJson } from "./http-io";
import { createSelfSignedCert, type SelfSignedCert } from "./self-signed-cert";

/**
 * A loopback Azure Key Vault that speaks enough of the REST API for `@azure/keyvault-keys`:
 * the bearer challenge, GET /keys/{name}[/{version}], POST /keys/{name}/{version}/encrypt|decrypt
 * with RSA-OAEP / RSA-OAEP-256. RSA keys only; keys and versions are made through this object.
 */
export interface KeyVaultStandInOptions {
  /**
   * HTTPS certificate; by default a fresh self-signed one (read `ca` to trust it).
   * `false` serves plain HTTP (the SDK then needs `allowInsecureConnection: true`).
   */
  tls?: SelfSignedCert | false;
  host?: string;
  port?: number;
  /** Tenant named in the challenge's `authorization` URI; credentials for another tenant refuse it. */
  tenantId?: string;
  /** Authority named in the challenge. */
  authorityHost?: string;
  /** Decides whether a bearer token is accepted; by default any non-empty token is. */
  acceptToken?: (token: string) => boolean;
}

export interface KeyVaultStandIn {
  /** Vault URL, e.g. `https://127.0.0.1:54321`. */
  url: string;
  /** The PEM certificate to trust (`tlsOptions: { ca }`), or undefined over plain HTTP. */
  ca: string | undefined;
  /**
   * Creates a key with a first version (a fresh RSA-2048 key, or the PEM given); returns that version,
   * random unless given (a stable version lets envelopes outlive the stand-in).
   */
  createKey(name: string, privateKeyPem?: string, version?: string): string;
  /** Adds a new version to a key, which becomes its latest; returns the version. */
  rotateKey(name: string, privateKeyPem?: string): string;
  /** The latest version of a key, if it exists. */
  latestVersion(name: string): string | undefined;
  /** Every request received, for tests that assert on the protocol. */
  readonly requests: ReadonlyArray<{ method: string; path: string; authorized: boolean }>;
  close(): Promise<void>;
}

const KEY_OPS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"];
const OAEP_HASH: Record<string, string> = { "RSA-OAEP": "sha1", "RSA-OAEP-256": "sha256" };

interface KeyVersion {
  version: string;
  privateKey: KeyObject;
  created: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, body, { "x-ms-keyvault-service-version": "stand-in", ...headers });
}

export async function startKeyVaultStandIn(options: KeyVaultStandInOptions = {}): Promise<KeyVaultStandIn> {
  const tls = options.tls === undefined ? createSelfSignedCert() : options.tls;
  const tenantId = options.tenantId ?? "00000000-0000-0000-0000-000000000000";
  const authority = (options.authorityHost ?? "https://login.microsoftonline.com").replace(/\/+$/, "");
  const acceptToken = options.acceptToken ?? ((token: string) => token.length > 0);
  const keys = new Map<string, KeyVersion[]>();
  const requests: Array<{ method: string; path: string; authorized: boolean }> = [];
  let url = "";

  const kid = (name: string, version: string) => `${url}/keys/${name}/${version}`;

  function addVersion(name: string, privateKeyPem?: string, chosenVersion?: string): string {
    const privateKey =
      privateKeyPem === undefined
        ? generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey
        : createPrivateKey(privateKeyPem);
    if (privateKey.asymmetricKeyType !== "rsa") throw new Error("the Key Vault stand-in holds RSA keys only");
    const version = chosenVersion ?? randomBytes(16).toString("hex");
    const versions = keys.get(name) ?? [];
    if (versions.some((v) => v.version === version))
      throw new Error(`key ${name} already has version ${version}`);
    versions.push({ version, privateKey, created: Math.floor(Date.now() / 1000) });
    keys.set(name, versions);
    return version;
  }

  function find(name: string, version: string | undefined): KeyVersion {
    const versions = keys.get(name) ?? [];
    const found = version === undefined ? versions.at(-1) : versions.find((v) => v.version === version);
    if (found === undefined) {
      const id = version === undefined ? name : `${name}/${version}`;
      throw new HttpError(404, "KeyNotFound", `A key with (name/id) ${id} was not found in this key vault.`);
    }
    return found;
  }

  function keyBundle(name: string, key: KeyVersion) {
    const jwk = createPublicKey(key.privateKey).export({ format: "jwk" });
    return {
      key: { kid: kid(name, key.version), kty: "RSA", key_ops: KEY_OPS, n: jwk.n, e: jwk.e },
      attributes: {
        enabled: true,
        created: key.created,
        updated: key.created,
        recoveryLevel: "Recoverable+Purgeable",
        recoverableDays: 90,
      },
    };
  }

  async function keyOperation(req: IncomingMessage, name: string, key: KeyVersion, operation: string) {
    let body: { alg?: unknown; value?: unknown };
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      throw new HttpError(400, "BadParameter", "The request body is not valid JSON.");
    }
    const hash = typeof body.alg === "string" ? OAEP_HASH[body.alg] : undefined;
    if (hash === undefined)
      throw new HttpError(400, "BadParameter", `Algorithm ${String(body.alg)} is not supported.`);
    if (typeof body.value !== "string")
      throw new HttpError(400, "BadParameter", "Property 'value' is required.");
    const input = Buffer.from(body.value, "base64url");
    const padding = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash };
    let output: Buffer;
    try {
      output =
        operation === "encrypt"
          ? publicEncrypt({ key: createPublicKey(key.privateKey), ...padding }, input)
          : privateDecrypt({ key: key.privateKey, ...padding }, input);
    } catch {
      throw new HttpError(
        400,
        "BadParameter",
        `The ${operation} operation failed: bad input for ${body.alg}.`,
      );
    }
    return { kid: kid(name, key.version), value: output.toString("base64url") };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestUrl = new URL(req.url ?? "/", "http://stand-in");
    const method = req.method ?? "GET";
    const authorization = req.headers.authorization ?? "";
    const token = /^Bearer (.+)$/i.exec(authorization)?.[1];
    const authorized = token !== undefined && acceptToken(token);
    requests.push({ method, path: requestUrl.pathname, authorized });
    if (!authorized) {
      // As the service does: a challenge naming the authority/tenant and resource to get a token for.
      const challenge = `Bearer authorization="${authority}/${tenantId}", resource="https://vault.azure.net"`;
      const message =
        token === undefined
          ? "AKV10000: Request is missing a Bearer or PoP token."
          : "AKV10022: Invalid audience.";
      send(res, 401, { error: { code: "Unauthorized", message } }, { "www-authenticate": challenge });
      return;
    }
    if (!requestUrl.searchParams.get("api-version")) {
      throw new HttpError(400, "BadParameter", "The 'api-version' query parameter is required.");
    }
    const segments = requestUrl.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const [collection, name, version, operation] = segments;
    if (collection !== "keys" || name === undefined || segments.length > 4) {
      throw new HttpError(404, "NotFound", `No route for ${method} ${requestUrl.pathname}.`);
    }
    if (method === "GET" && operation === undefined) {
      send(res, 200, keyBundle(name, find(name, version)));
      return;
    }
    if (method === "POST" && version !== undefined && (operation === "encrypt" || operation === "decrypt")) {
      send(res, 200, await keyOperation(req, name, find(name, version), operation));
      return;
    }
    throw new HttpError(405, "MethodNotAllowed", `${method} ${requestUrl.pathname} is not supported.`);
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const code = error instanceof HttpError ? error.code : "InternalServerError";
      send(res, status, { error: { code, message: (error as Error).message } });
    });
  };
  const server: Server = tls === false ? createHttpServer(listener) : createHttpsServer(tls, listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const address = server.address() as AddressInfo;
  url = `${tls === false ? "http" : "https"}://${options.host ?? "127.0.0.1"}:${address.port}`;

  return {
    url,
    ca: tls === false ? undefined : tls.cert,
    createKey(name, privateKeyPem, version) {
      if (keys.has(name)) throw new Error(`key ${name} already exists; use rotateKey to add a version`);
      return addVersion(name, privateKeyPem, version);
    },
    rotateKey(name, privateKeyPem) {
      if (!keys.has(name)) throw new Error(`key ${name} does not exist`);
      return addVersion(name, privateKeyPem);
    },
    latestVersion: (name) => keys.get(name)?.at(-1)?.version,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

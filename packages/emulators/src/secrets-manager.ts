import { randomBytes, randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import {
  type AccessDecision,
  type Authorize,
  decideAccess,
  notAuthorizedMessage,
  UNRECOGNIZED_CLIENT,
} from "./aws-authorization";
import { type StandInClientConfig, sigV4JsonRefusal, standInCredentials } from "./aws-sigv4";
import { header, readBody, sendText } from "./http-io";
import { type Exchange, standInFailure, startLoopbackServer } from "./loopback-server";

/**
 * A loopback, in-memory stand-in for AWS Secrets Manager's JSON 1.1 protocol, enough for
 * `@aws-sdk/client-secrets-manager`'s GetSecretValueCommand: `POST /` with
 * `X-Amz-Target: secretsmanager.GetSecretValue` and `Content-Type: application/x-amz-json-1.1`.
 * Secrets are found by name, full ARN or partial ARN (without the random suffix); each putSecret
 * makes a new AWSCURRENT version. Errors are AWS's shape: `{"__type", "message"}` with the type
 * also in `x-amzn-ErrorType`, which the SDK turns into the error's `name`.
 *
 * Requests must carry a SigV4 `Authorization` header scoped to this region and the
 * `secretsmanager` service (missing → 400 MissingAuthenticationTokenException, as AWS answers);
 * the signature itself is not verified. Other operations answer 501.
 *
 * With `authorize`, GetSecretValue is authorized as `secretsmanager:GetSecretValue` on the secret's
 * full ARN, whichever way the SecretId names it (see `secretArnOf`), before anything else about the
 * secret is looked at (a secret the caller may not read answers AccessDenied whether or not it
 * exists). A refusal is 400 `AccessDeniedException` naming the SecretId as sent; an unknown access
 * key id is 400 `UnrecognizedClientException`.
 */
export interface SecretsManagerStandInOptions {
  host?: string;
  port?: number;
  /** The region signatures must be scoped to. */
  region?: string;
  /** Secrets that exist from the start, by name. */
  secrets?: Record<string, SecretValue>;
  /** IAM for every GetSecretValue (see aws-authorization.ts); without it nothing is checked. */
  authorize?: Authorize;
}

/** A string is the SecretString, an object its JSON text, bytes the SecretBinary. */
export type SecretValue = string | Uint8Array | Record<string, unknown>;

/** Error types `failNext` can inject, with the status AWS answers them with. */
export const SECRETS_MANAGER_ERRORS = {
  ResourceNotFoundException: { status: 400, message: "Secrets Manager can't find the specified secret." },
  AccessDeniedException: { status: 400, message: "" },
  DecryptionFailure: {
    status: 400,
    message: "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
  },
  InvalidRequestException: {
    status: 400,
    message: "You can't perform this operation on the secret because it was marked for deletion.",
  },
  ThrottlingException: { status: 400, message: "Rate exceeded" },
  InternalServiceError: { status: 500, message: "An error occurred on the server side." },
} as const;

export type SecretsManagerErrorType = keyof typeof SECRETS_MANAGER_ERRORS;

export interface SecretsManagerRequest {
  method: string;
  /** The `X-Amz-Target` header, e.g. `secretsmanager.GetSecretValue`. */
  target: string;
  secretId?: string;
  status: number;
  errorType?: string;
}

export interface SecretsManagerStandIn {
  /** e.g. `http://127.0.0.1:54321`. */
  endpoint: string;
  region: string;
  /** Ready for `new SecretsManagerClient(clientConfig)`: this endpoint, its region, dummy static keys. */
  clientConfig: StandInClientConfig;
  /** Creates the secret (by name) or gives an existing one a new current version; returns its ARN. */
  putSecret(id: string, value: SecretValue): string;
  /** The next `count` GetSecretValue calls that pass authentication (and `authorize`) fail with `type`. */
  failNext(count: number, type: SecretsManagerErrorType): void;
  /** Every request received, refused ones included; `.length` counts calls for cache tests. */
  readonly requests: ReadonlyArray<Readonly<SecretsManagerRequest>>;
  close(): Promise<void>;
}

interface StoredSecret {
  name: string;
  arn: string;
  versionId: string;
  createdDate: Date;
  secretString?: string;
  secretBinary?: Buffer;
}

const ACCOUNT_ID = "000000000000";
const TARGET_PREFIX = "secretsmanager.";
const CONTENT_TYPE = "application/x-amz-json-1.1";

class SecretsManagerError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    /** AWS's own refusals spell it `message`; the IAM layer's AccessDeniedException, `Message`. */
    readonly messageKey: "message" | "Message" = "message",
  ) {
    super(message);
  }
}

/** What Secrets Manager answers a GetSecretValue on `secretId` that `decision` refuses; undefined when allowed. */
function accessRefusal(decision: AccessDecision, secretId: string): SecretsManagerError | undefined {
  const action = "secretsmanager:GetSecretValue";
  switch (decision.kind) {
    case "allowed":
      return undefined;
    case "unknown-key":
      return new SecretsManagerError(400, UNRECOGNIZED_CLIENT.type, UNRECOGNIZED_CLIENT.message);
    case "denied":
      return new SecretsManagerError(
        400,
        "AccessDeniedException",
        notAuthorizedMessage(decision.caller, action, secretId),
        "Message",
      );
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  sendText(res, status, CONTENT_TYPE, JSON.stringify(body), headers);
}

function checkSignature(authorization: string | undefined, region: string): void {
  const refusal = sigV4JsonRefusal(authorization, region, "secretsmanager");
  if (refusal) throw new SecretsManagerError(400, refusal.type, refusal.message);
}

function parseRequest(text: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new SecretsManagerError(400, "SerializationException", "The request body is not valid JSON");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new SecretsManagerError(400, "SerializationException", "The request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

export async function startSecretsManagerStandIn(
  options: SecretsManagerStandInOptions = {},
): Promise<SecretsManagerStandIn> {
  const region = options.region ?? "us-east-1";
  const secrets = new Map<string, StoredSecret>();
  const requests: SecretsManagerRequest[] = [];
  const failures: SecretsManagerErrorType[] = [];

  function find(id: string): StoredSecret | undefined {
    for (const secret of secrets.values()) {
      // A partial ARN is the full one without its `-` and six random characters.
      if (secret.name === id || secret.arn === id || secret.arn.slice(0, -7) === id) return secret;
    }
    return undefined;
  }

  /**
   * The ARN IAM evaluates a SecretId against: the secret's full ARN when it exists (however it was
   * named), else the ARN as sent, else the ARN a secret of that name would have, without the random
   * suffix (so a grant on another secret's ARN does not match it).
   */
  function secretArnOf(secretId: string): string {
    const arn = find(secretId)?.arn;
    if (arn !== undefined) return arn;
    return secretId.startsWith("arn:")
      ? secretId
      : `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:${secretId}`;
  }

  function putSecret(id: string, value: SecretValue): string {
    let secret = find(id);
    if (!secret) {
      if (id.startsWith("arn:")) throw new Error(`putSecret: no secret ${id}; create it by name`);
      const suffix = randomBytes(4).toString("base64url").slice(0, 6);
      secret = {
        name: id,
        arn: `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:${id}-${suffix}`,
        versionId: "",
        createdDate: new Date(),
      };
      secrets.set(id, secret);
    }
    secret.versionId = randomUUID();
    secret.createdDate = new Date();
    delete secret.secretString;
    delete secret.secretBinary;
    if (value instanceof Uint8Array) secret.secretBinary = Buffer.from(value);
    else secret.secretString = typeof value === "string" ? value : JSON.stringify(value);
    return secret.arn;
  }
  for (const [name, value] of Object.entries(options.secrets ?? {})) putSecret(name, value);

  function getSecretValue(
    body: Record<string, unknown>,
    record: SecretsManagerRequest,
    authorization: string | undefined,
  ) {
    const { SecretId: secretId, VersionId: versionId, VersionStage: versionStage } = body;
    if (typeof secretId !== "string" || secretId === "") {
      throw new SecretsManagerError(
        400,
        "ValidationException",
        "1 validation error detected: Value at 'secretId' failed to satisfy constraint: Member must not be null",
      );
    }
    record.secretId = secretId;
    const decision = decideAccess(
      options.authorize,
      authorization,
      "secretsmanager:GetSecretValue",
      secretArnOf(secretId),
    );
    const refusal = accessRefusal(decision, secretId);
    if (refusal) throw refusal;
    const injected = failures.shift();
    if (injected) {
      const { status, message } = SECRETS_MANAGER_ERRORS[injected];
      throw new SecretsManagerError(
        status,
        injected,
        message ||
          `User: arn:aws:sts::${ACCOUNT_ID}:assumed-role/stand-in/stand-in is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretId} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
      );
    }
    const secret = find(secretId);
    if (!secret) {
      throw new SecretsManagerError(
        400,
        "ResourceNotFoundException",
        SECRETS_MANAGER_ERRORS.ResourceNotFoundException.message,
      );
    }
    // Only the current version is kept: asking for another one finds nothing, as for a pruned version.
    if (versionId !== undefined && versionId !== secret.versionId) {
      throw new SecretsManagerError(
        400,
        "ResourceNotFoundException",
        `Secrets Manager can't find the specified secret value for VersionId: ${String(versionId)}`,
      );
    }
    if (versionStage !== undefined && versionStage !== "AWSCURRENT") {
      throw new SecretsManagerError(
        400,
        "ResourceNotFoundException",
        `Secrets Manager can't find the specified secret value for staging label: ${String(versionStage)}`,
      );
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: secret.versionId,
      ...(secret.secretString !== undefined ? { SecretString: secret.secretString } : {}),
      ...(secret.secretBinary !== undefined ? { SecretBinary: secret.secretBinary.toString("base64") } : {}),
      VersionStages: ["AWSCURRENT"],
      // JSON 1.1 timestamps are epoch seconds.
      CreatedDate: secret.createdDate.getTime() / 1000,
    };
  }

  async function handle({ req, res, record }: Exchange<SecretsManagerRequest>) {
    const target = record.target;
    if (req.method !== "POST" || new URL(req.url ?? "/", "http://stand-in").pathname !== "/") {
      throw new SecretsManagerError(
        404,
        "UnknownOperationException",
        `Unknown operation ${req.method} ${req.url}`,
      );
    }
    checkSignature(header(req, "authorization"), region);
    if (!target.startsWith(TARGET_PREFIX)) {
      throw new SecretsManagerError(400, "UnknownOperationException", `Unknown operation '${target}'`);
    }
    const contentType = header(req, "content-type") ?? "";
    if (contentType.split(";")[0]?.trim() !== CONTENT_TYPE) {
      throw new SecretsManagerError(
        400,
        "SerializationException",
        `Content-Type must be ${CONTENT_TYPE} (got '${contentType}')`,
      );
    }
    const body = parseRequest(await readBody(req));
    if (target !== `${TARGET_PREFIX}GetSecretValue`) {
      throw new SecretsManagerError(501, "NotImplemented", `${target} is not supported by this stand-in`);
    }
    const answer = getSecretValue(body, record, header(req, "authorization"));
    sendJson(res, 200, answer, { "x-amzn-requestid": randomUUID() });
  }

  const server = await startLoopbackServer(options, requests, {
    record: (req): SecretsManagerRequest => ({
      method: req.method ?? "",
      target: header(req, "x-amz-target") ?? "",
      status: 0,
    }),
    handle,
    refuse({ res, record }, error) {
      const failure =
        error instanceof SecretsManagerError
          ? error
          : new SecretsManagerError(500, "InternalServiceError", standInFailure(error));
      record.errorType = failure.type;
      sendJson(
        res,
        failure.status,
        { __type: failure.type, [failure.messageKey]: failure.message },
        { "x-amzn-requestid": randomUUID(), "x-amzn-ErrorType": failure.type },
      );
    },
  });
  const { endpoint } = server;

  return {
    endpoint,
    region,
    clientConfig: { endpoint, region, credentials: standInCredentials() },
    putSecret,
    failNext(count, type) {
      if (!(type in SECRETS_MANAGER_ERRORS)) throw new Error(`failNext: unknown error type ${type}`);
      for (let i = 0; i < count; i += 1) failures.push(type);
    },
    requests,
    close() {
      return server.close();
    },
  };
}

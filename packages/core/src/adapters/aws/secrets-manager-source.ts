import {
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from "@aws-sdk/client-secrets-manager";
import { type SecretSource, SecretSourceError, type SecretValues } from "../../secrets/secrets";

/** Keys whose value may be written in the secret as a JSON object; they are kept as its JSON text. */
export const JSON_OBJECT_KEYS: ReadonlySet<string> = new Set(["SERVICE_BUS_CONNECTIONS"]);

export interface SecretsManagerSourceOptions {
  /** Name or ARN of the secret (`VICTORIA_SECRET_ID`). */
  secretId: string;
  /** A ready client; otherwise one is made from `clientConfig` (SDK defaults when omitted). */
  client?: SecretsManagerClient;
  clientConfig?: SecretsManagerClientConfig;
}

export interface SecretsManagerSource extends SecretSource {
  readonly secretId: string;
}

/** What each definitive AWS error means for us, so the operator knows where to look. */
const AWS_ERROR_HINTS: Record<string, string> = {
  ResourceNotFoundException: "no such secret (or version) in this account and region",
  AccessDeniedException:
    "the function's role may not call secretsmanager:GetSecretValue on it (or kms:Decrypt on its key)",
  DecryptionFailure: "Secrets Manager could not decrypt it with its KMS key",
  InvalidRequestException: "the secret cannot be read in its current state (scheduled for deletion?)",
};

/** Errors that say nothing lasting about the secret: worth riding out on cached values. */
const TRANSIENT_AWS_ERRORS = new Set([
  "InternalServiceError",
  "ThrottlingException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "ServiceUnavailable",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
]);

/** The AWS error name, or a network error's code (`ECONNREFUSED`) when the SDK never got an answer. */
function errorName(error: unknown): string {
  if (!(error instanceof Error)) return "UnknownError";
  const code = (error as { code?: unknown }).code;
  return error.name === "Error" && typeof code === "string" ? code : error.name;
}

function httpStatus(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata
    ?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

function callFailed(secretId: string, error: unknown): SecretSourceError {
  const name = errorName(error);
  const status = httpStatus(error);
  // No HTTP answer at all is the network; 5xx and throttling are AWS having a moment.
  const transient = status === undefined || status >= 500 || status === 429 || TRANSIENT_AWS_ERRORS.has(name);
  const hint = AWS_ERROR_HINTS[name];
  // AWS's own message is left out: it adds nothing the name and hint do not, and keeps errors uniform.
  return new SecretSourceError(
    `Could not read secret '${secretId}' from AWS Secrets Manager: ${name}${
      status === undefined ? "" : ` (HTTP ${status})`
    }${hint ? ` — ${hint}` : ""}`,
    { secretId, transient, awsErrorName: name },
  );
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * The secret's JSON object as configuration values: strings as they are, a JSON_OBJECT_KEYS
 * object as its JSON text. Errors name the secret and the offending key and type, never content
 * (JSON.parse's own message quotes the text, so it is not passed on).
 */
export function parseSecretString(secretId: string, text: string): SecretValues {
  const malformed = (what: string) =>
    new SecretSourceError(`Secret '${secretId}' is malformed: ${what}`, { secretId, transient: false });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw malformed("its SecretString is not valid JSON (expected a JSON object of configuration keys)");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw malformed(`its SecretString must be a JSON object of configuration keys, not ${kindOf(parsed)}`);
  }
  const values: SecretValues = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === "string") {
      values[key] = value;
    } else if (JSON_OBJECT_KEYS.has(key) && kindOf(value) === "an object") {
      for (const [member, inner] of Object.entries(value as Record<string, unknown>)) {
        if (typeof inner !== "string") {
          throw malformed(`${key}.${member} must be a string, not ${kindOf(inner)}`);
        }
      }
      values[key] = JSON.stringify(value);
    } else {
      const allowed = JSON_OBJECT_KEYS.has(key) ? "a string or a JSON object of strings" : "a string";
      throw malformed(`the value of ${key} must be ${allowed}, not ${kindOf(value)}`);
    }
  }
  return values;
}

/** Reads the configuration secret with GetSecretValue on every call; wrap it in `cachedSecretSource`. */
export function createSecretsManagerSource(options: SecretsManagerSourceOptions): SecretsManagerSource {
  const { secretId } = options;
  const client = options.client ?? new SecretsManagerClient(options.clientConfig ?? {});

  return {
    secretId,
    async get() {
      let response: GetSecretValueCommandOutput;
      try {
        response = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      } catch (error) {
        throw callFailed(secretId, error);
      }
      if (typeof response.SecretString === "string")
        return parseSecretString(secretId, response.SecretString);
      const what =
        response.SecretBinary === undefined
          ? "it has no SecretString"
          : "it holds a SecretBinary, which is not supported; store the configuration as a JSON SecretString";
      throw new SecretSourceError(`Secret '${secretId}' is unusable: ${what}`, {
        secretId,
        transient: false,
      });
    },
  };
}

import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { crc32 } from "node:zlib";
import { type AccessDecision, type Authorize, decideAccess, notAuthorizedMessage } from "./aws-authorization";
import { type StandInClientConfig, sigV4Fault, standInCredentials } from "./aws-sigv4";
import { header, readBodyBytes, sendText } from "./http-io";
import { type Exchange, standInFailure, startLoopbackServer } from "./loopback-server";

/**
 * A loopback, in-memory stand-in for the parts of the S3 REST API (path-style addressing) that
 * `@aws-sdk/client-s3` uses for a vault: CreateBucket, PutObject with the conditional writes
 * `If-None-Match: *` and `If-Match: <etag>` (412 PreconditionFailed), GetObject (NoSuchKey),
 * HeadObject, DeleteObject and ListObjectsV2 (prefix, start-after, continuation-token, max-keys).
 * s3rver ignores conditional headers on PutObject, hence this stand-in.
 *
 * Requests must carry a SigV4 `Authorization` header scoped to this region and the `s3` service;
 * the signature itself is not verified. Each request is handled to completion on the event loop
 * once its body is read, so a conditional write is an atomic check-and-set, as on S3.
 *
 * With `authorize`, each request is authorized as S3 authorizes it (see `s3Access`): an unknown
 * access key id answers 403 InvalidAccessKeyId, a refused action 403 AccessDenied with S3's
 * wording; a missing bucket is still NoSuchBucket, and a missing key is 404 NoSuchKey only to a
 * caller allowed `s3:ListBucket` on the bucket (403 AccessDenied to anyone else), as on S3.
 */
export interface S3StandInOptions {
  host?: string;
  port?: number;
  /** The region signatures must be scoped to. */
  region?: string;
  /** Buckets that exist from the start. */
  buckets?: string[];
  /** IAM for every request (see aws-authorization.ts); without it nothing is checked. */
  authorize?: Authorize;
}

export interface S3StandIn {
  /** e.g. `http://127.0.0.1:54321`. */
  endpoint: string;
  region: string;
  /** Ready for `new S3Client(clientConfig)`: this endpoint, path-style, its region, dummy keys. */
  clientConfig: StandInClientConfig & { forcePathStyle: true };
  createBucket(name: string): void;
  /** The keys of a bucket in listing order; empty for a missing bucket. */
  keys(bucket: string): string[];
  /** Every request received, refused ones included, for tests that assert on the protocol. */
  readonly requests: ReadonlyArray<{ method: string; path: string; status: number }>;
  close(): Promise<void>;
}

interface StoredObject {
  body: Buffer;
  /** Quoted, as S3 sends it: `"<md5 hex>"`. */
  etag: string;
  contentType: string;
  lastModified: Date;
  crc32?: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const MAX_KEYS = 1000;

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function element(name: string, value: string | number | boolean): string {
  return `<${name}>${xmlEscape(String(value))}</${name}>`;
}

function sendXml(res: ServerResponse, status: number, xml: string, headers: Record<string, string>): void {
  sendText(res, status, "application/xml", `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`, headers);
}

/** S3's error shape: `<Error><Code>…</Code><Message>…</Message>…</Error>`; HEAD answers carry no body. */
function sendError(res: ServerResponse, method: string, requestId: string, error: S3Error): void {
  const headers = { "x-amz-request-id": requestId };
  if (method === "HEAD") {
    res.writeHead(error.status, headers);
    res.end();
    return;
  }
  const extra = Object.entries(error.extra)
    .map(([name, value]) => element(name, value))
    .join("");
  const xml = `<Error>${element("Code", error.code)}${element("Message", error.message)}${extra}${element("RequestId", requestId)}</Error>`;
  sendXml(res, error.status, xml, headers);
}

function checkSignature(authorization: string | undefined, region: string): void {
  const fault = sigV4Fault(authorization, region, "s3");
  if (fault?.kind === "missing") throw new S3Error(403, "AccessDenied", "Access Denied");
  if (fault?.kind === "malformed") {
    throw new S3Error(
      400,
      "AuthorizationHeaderMalformed",
      "The authorization header is malformed; it must be AWS4-HMAC-SHA256 with Credential, SignedHeaders and Signature",
    );
  }
  if (fault?.kind === "wrong-scope") {
    throw new S3Error(
      400,
      "AuthorizationHeaderMalformed",
      `The authorization header is malformed; the credential must be scoped to region '${region}' and service 's3' (got '${fault.region}', '${fault.service}')`,
    );
  }
}

/** The IAM action and resource S3 authorizes a request as. */
interface S3Access {
  action: string;
  resource: string;
  bucket: string;
}

/**
 * What S3 authorizes a request as: objects as `arn:aws:s3:::bucket/key`, listing (ListObjectsV2 is
 * `s3:ListBucket`) and creation on `arn:aws:s3:::bucket`. HeadObject is `s3:GetObject`. Undefined
 * for requests this stand-in does not serve (they answer 501 or 405 unchecked).
 */
function s3Access(method: string, bucket: string, key: string, query: URLSearchParams): S3Access | undefined {
  if (bucket === "") return undefined;
  const bucketArn = `arn:aws:s3:::${bucket}`;
  if (key === "") {
    if (method === "PUT") return { action: "s3:CreateBucket", resource: bucketArn, bucket };
    if (method === "GET" && query.get("list-type") === "2") {
      return { action: "s3:ListBucket", resource: bucketArn, bucket };
    }
    return undefined;
  }
  const action = {
    GET: "s3:GetObject",
    HEAD: "s3:GetObject",
    PUT: "s3:PutObject",
    DELETE: "s3:DeleteObject",
  }[method];
  return action === undefined ? undefined : { action, resource: `${bucketArn}/${key}`, bucket };
}

/** S3's answer to a request `decision` refuses; undefined when it is allowed. */
function s3Refusal(decision: AccessDecision, access: S3Access): S3Error | undefined {
  switch (decision.kind) {
    case "allowed":
      return undefined;
    case "unknown-key":
      return new S3Error(
        403,
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
        {
          AWSAccessKeyId: decision.accessKeyId,
        },
      );
    case "denied":
      return new S3Error(
        403,
        "AccessDenied",
        notAuthorizedMessage(decision.caller, access.action, `"${access.resource}"`),
      );
  }
}

/** S3 lists keys in UTF-8 byte order, which differs from JavaScript's UTF-16 order for astral characters. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function objectHeaders(object: StoredObject): Record<string, string> {
  return {
    etag: object.etag,
    "content-type": object.contentType,
    "last-modified": object.lastModified.toUTCString(),
    ...(object.crc32 ? { "x-amz-checksum-crc32": object.crc32 } : {}),
  };
}

export async function startS3StandIn(options: S3StandInOptions = {}): Promise<S3StandIn> {
  const region = options.region ?? "us-east-1";
  const buckets = new Map<string, Map<string, StoredObject>>();
  const requests: Array<{ method: string; path: string; status: number }> = [];

  function createBucket(name: string): void {
    if (!buckets.has(name)) buckets.set(name, new Map());
  }
  for (const name of options.buckets ?? []) createBucket(name);

  function bucketOf(name: string): Map<string, StoredObject> {
    const bucket = buckets.get(name);
    if (!bucket)
      throw new S3Error(404, "NoSuchBucket", "The specified bucket does not exist", { BucketName: name });
    return bucket;
  }

  /** Throws S3's refusal unless the request's signer may perform `access`. */
  function authorizeRequest(authorization: string | undefined, access: S3Access): void {
    const decision = decideAccess(options.authorize, authorization, access.action, access.resource);
    const refusal = s3Refusal(decision, access);
    if (!refusal) return;
    // S3 tells anyone that a bucket does not exist before it asks whether they may use it.
    if (decision.kind === "denied" && access.action !== "s3:CreateBucket") bucketOf(access.bucket);
    throw refusal;
  }

  /** A missing key is NoSuchKey only to who may list the bucket; anyone else gets AccessDenied. */
  function missingKey(authorization: string | undefined, bucketName: string, key: string): S3Error {
    const list = { action: "s3:ListBucket", resource: `arn:aws:s3:::${bucketName}`, bucket: bucketName };
    const decision = decideAccess(options.authorize, authorization, list.action, list.resource);
    return (
      s3Refusal(decision, list) ??
      new S3Error(404, "NoSuchKey", "The specified key does not exist.", { Key: key })
    );
  }

  function sortedKeys(bucket: Map<string, StoredObject>): string[] {
    return [...bucket.keys()].sort(byteOrder);
  }

  function putObject(
    req: IncomingMessage,
    res: ServerResponse,
    bucketName: string,
    key: string,
    body: Buffer,
  ) {
    const bucket = bucketOf(bucketName);
    const sentCrc = header(req, "x-amz-checksum-crc32");
    if (sentCrc !== undefined) {
      const actual = Buffer.alloc(4);
      actual.writeUInt32BE(crc32(body));
      if (actual.toString("base64") !== sentCrc) {
        throw new S3Error(400, "BadDigest", "The CRC32 you specified did not match the calculated checksum.");
      }
    }
    // Checked after the body is read and with no await before the write: the check-and-set is atomic.
    const existing = bucket.get(key);
    const ifNoneMatch = header(req, "if-none-match");
    if (ifNoneMatch !== undefined) {
      if (ifNoneMatch !== "*") {
        throw new S3Error(501, "NotImplemented", "If-None-Match on PutObject only supports '*'");
      }
      if (existing) {
        throw new S3Error(
          412,
          "PreconditionFailed",
          "At least one of the pre-conditions you specified did not hold",
          {
            Condition: "If-None-Match",
          },
        );
      }
    }
    const ifMatch = header(req, "if-match");
    if (ifMatch !== undefined) {
      if (!existing) throw new S3Error(404, "NoSuchKey", "The specified key does not exist.", { Key: key });
      if (ifMatch !== "*" && ifMatch !== existing.etag) {
        throw new S3Error(
          412,
          "PreconditionFailed",
          "At least one of the pre-conditions you specified did not hold",
          {
            Condition: "If-Match",
          },
        );
      }
    }
    const stored: StoredObject = {
      body,
      etag: `"${createHash("md5").update(body).digest("hex")}"`,
      contentType: header(req, "content-type") ?? "binary/octet-stream",
      lastModified: new Date(),
      ...(sentCrc !== undefined ? { crc32: sentCrc } : {}),
    };
    bucket.set(key, stored);
    res.writeHead(200, { etag: stored.etag, "content-length": 0 });
    res.end();
  }

  function getObject(req: IncomingMessage, res: ServerResponse, bucketName: string, key: string) {
    const object = bucketOf(bucketName).get(key);
    if (!object) throw missingKey(header(req, "authorization"), bucketName, key);
    const ifMatch = header(req, "if-match");
    if (ifMatch !== undefined && ifMatch !== "*" && ifMatch !== object.etag) {
      throw new S3Error(
        412,
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        {
          Condition: "If-Match",
        },
      );
    }
    const ifNoneMatch = header(req, "if-none-match");
    if (ifNoneMatch !== undefined && (ifNoneMatch === "*" || ifNoneMatch === object.etag)) {
      res.writeHead(304, { etag: object.etag });
      res.end();
      return;
    }
    res.writeHead(200, { ...objectHeaders(object), "content-length": object.body.length });
    res.end(req.method === "HEAD" ? undefined : object.body);
  }

  function listObjectsV2(res: ServerResponse, bucketName: string, query: URLSearchParams) {
    const bucket = bucketOf(bucketName);
    if (query.has("delimiter"))
      throw new S3Error(501, "NotImplemented", "delimiter is not supported by this stand-in");
    const prefix = query.get("prefix") ?? "";
    const maxKeysText = query.get("max-keys");
    const maxKeys = maxKeysText === null ? MAX_KEYS : Number(maxKeysText);
    if (!Number.isInteger(maxKeys) || maxKeys < 0) {
      throw new S3Error(400, "InvalidArgument", "Provided max-keys not an integer or within integer range", {
        ArgumentName: "max-keys",
        ArgumentValue: maxKeysText ?? "",
      });
    }
    const token = query.get("continuation-token");
    let after = query.get("start-after") ?? "";
    if (token !== null) {
      // The token is opaque to clients; here it is the last key of the previous page.
      const decoded = Buffer.from(token, "base64url").toString("utf8");
      if (token === "" || Buffer.from(decoded, "utf8").toString("base64url") !== token) {
        throw new S3Error(400, "InvalidArgument", "The continuation token provided is incorrect", {
          ArgumentName: "continuation-token",
        });
      }
      after = decoded;
    }
    // Filtered before sorting: a listing of a small prefix in a bucket of 100,000 keys stays cheap.
    const matching = [...bucket.keys()]
      .filter((key) => key.startsWith(prefix) && byteOrder(key, after) > 0)
      .sort(byteOrder);
    const page = matching.slice(0, Math.min(maxKeys, MAX_KEYS));
    const truncated = matching.length > page.length;
    const urlEncoded = query.get("encoding-type") === "url";
    const encode = (text: string) => (urlEncoded ? encodeURIComponent(text) : text);
    const contents = page
      .map((key) => {
        const object = bucket.get(key) as StoredObject;
        return `<Contents>${element("Key", encode(key))}${element("LastModified", object.lastModified.toISOString())}${element("ETag", object.etag)}${element("Size", object.body.length)}${element("StorageClass", "STANDARD")}</Contents>`;
      })
      .join("");
    const last = page.at(-1);
    const xml = [
      '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
      element("Name", bucketName),
      element("Prefix", encode(prefix)),
      element("KeyCount", page.length),
      element("MaxKeys", maxKeys),
      element("IsTruncated", truncated),
      urlEncoded ? element("EncodingType", "url") : "",
      token !== null ? element("ContinuationToken", token) : "",
      truncated && last !== undefined
        ? element("NextContinuationToken", Buffer.from(last, "utf8").toString("base64url"))
        : "",
      contents,
      "</ListBucketResult>",
    ].join("");
    sendXml(res, 200, xml, {});
  }

  async function handle({ req, res }: Exchange<unknown>): Promise<void> {
    checkSignature(header(req, "authorization"), region);
    const url = new URL(req.url ?? "/", "http://stand-in");
    const slash = url.pathname.indexOf("/", 1);
    const bucketName = decodeURIComponent(
      slash === -1 ? url.pathname.slice(1) : url.pathname.slice(1, slash),
    );
    const key = slash === -1 ? "" : decodeURIComponent(url.pathname.slice(slash + 1));
    const method = req.method ?? "GET";
    const { body } = await readBodyBytes(req);
    const access = s3Access(method, bucketName, key, url.searchParams);
    if (access) authorizeRequest(header(req, "authorization"), access);
    if (bucketName === "")
      throw new S3Error(501, "NotImplemented", "ListBuckets is not supported by this stand-in");

    if (key === "") {
      if (method === "PUT") {
        if (!BUCKET_NAME.test(bucketName)) {
          throw new S3Error(400, "InvalidBucketName", "The specified bucket is not valid.", {
            BucketName: bucketName,
          });
        }
        if (buckets.has(bucketName)) {
          throw new S3Error(
            409,
            "BucketAlreadyOwnedByYou",
            "Your previous request to create the named bucket succeeded and you already own it.",
            {
              BucketName: bucketName,
            },
          );
        }
        createBucket(bucketName);
        res.writeHead(200, { location: `/${bucketName}`, "content-length": 0 });
        res.end();
        return;
      }
      if (method === "GET" && url.searchParams.get("list-type") === "2") {
        listObjectsV2(res, bucketName, url.searchParams);
        return;
      }
      throw new S3Error(501, "NotImplemented", `${method} on a bucket is not supported by this stand-in`);
    }

    switch (method) {
      case "PUT":
        if (header(req, "x-amz-copy-source") !== undefined) {
          throw new S3Error(501, "NotImplemented", "CopyObject is not supported by this stand-in");
        }
        putObject(req, res, bucketName, key, body);
        return;
      case "GET":
      case "HEAD":
        getObject(req, res, bucketName, key);
        return;
      case "DELETE":
        bucketOf(bucketName).delete(key);
        res.writeHead(204);
        res.end();
        return;
      default:
        throw new S3Error(
          405,
          "MethodNotAllowed",
          "The specified method is not allowed against this resource.",
        );
    }
  }

  const server = await startLoopbackServer(options, requests, {
    record: (req) => ({ method: req.method ?? "", path: req.url ?? "", status: 0 }),
    handle,
    refuse({ req, res, requestId }, error) {
      const failure =
        error instanceof S3Error ? error : new S3Error(500, "InternalError", standInFailure(error));
      sendError(res, req.method ?? "GET", requestId, failure);
    },
  });
  const { endpoint } = server;

  return {
    endpoint,
    region,
    clientConfig: { endpoint, region, forcePathStyle: true, credentials: standInCredentials() },
    createBucket,
    keys(bucket) {
      const objects = buckets.get(bucket);
      return objects ? sortedKeys(objects) : [];
    },
    requests,
    close() {
      return server.close();
    },
  };
}

import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
} from "node:crypto";
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KeyVaultStandIn, startKeyVaultStandIn } from "./key-vault";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { [key: string]: unknown };
}

let vault: KeyVaultStandIn;
const pem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
  type: "pkcs8",
  format: "pem",
});

function call(
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<Reply> {
  const text = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${vault.url}${path}`,
      {
        method,
        ca: vault.ca,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(text ? { "content-type": "application/json" } : {}),
        },
      },
      (res) => {
        let raw = "";
        res.on("data", (chunk) => {
          raw += chunk;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw ? JSON.parse(raw) : {} }),
        );
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}

beforeAll(async () => {
  vault = await startKeyVaultStandIn({ tenantId: "my-tenant", acceptToken: (t) => t === "good" });
  vault.createKey("kek", pem.toString());
});
afterAll(() => vault.close());

describe("Key Vault stand-in", () => {
  it("serves HTTPS on loopback", () => {
    expect(vault.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(vault.ca).toContain("BEGIN CERTIFICATE");
  });

  it("answers a request without a token with the bearer challenge", async () => {
    const reply = await call("GET", "/keys/kek?api-version=7.6");
    expect(reply.status).toBe(401);
    expect(reply.headers["www-authenticate"]).toBe(
      'Bearer authorization="https://login.microsoftonline.com/my-tenant", resource="https://vault.azure.net"',
    );
    expect(reply.body).toEqual({
      error: { code: "Unauthorized", message: "AKV10000: Request is missing a Bearer or PoP token." },
    });
  });

  it("refuses a token it does not accept", async () => {
    expect((await call("GET", "/keys/kek?api-version=7.6", { token: "bad" })).status).toBe(401);
  });

  it("returns the latest version as a JWK with its key id, and any version by id", async () => {
    const version = vault.latestVersion("kek");
    const latest = await call("GET", "/keys/kek/?api-version=7.6", { token: "good" });
    expect(latest.status).toBe(200);
    const key = latest.body.key as Record<string, unknown>;
    expect(key.kid).toBe(`${vault.url}/keys/kek/${version}`);
    expect(key.kty).toBe("RSA");
    expect(key.key_ops).toEqual(expect.arrayContaining(["encrypt", "decrypt"]));
    const jwk = createPublicKey(createPrivateKey(pem)).export({ format: "jwk" });
    expect({ n: key.n, e: key.e }).toEqual({ n: jwk.n, e: jwk.e });
    expect(key).not.toHaveProperty("d");

    const byVersion = await call("GET", `/keys/kek/${version}?api-version=7.6`, { token: "good" });
    expect((byVersion.body.key as Record<string, unknown>).kid).toBe(key.kid);
  });

  it("adds versions on rotation, keeping the old ones", async () => {
    const before = vault.latestVersion("kek");
    const after = vault.rotateKey("kek");
    expect(after).toMatch(/^[0-9a-f]{32}$/);
    expect(after).not.toBe(before);
    const latest = await call("GET", "/keys/kek?api-version=7.6", { token: "good" });
    expect((latest.body.key as Record<string, unknown>).kid).toBe(`${vault.url}/keys/kek/${after}`);
    expect((await call("GET", `/keys/kek/${before}?api-version=7.6`, { token: "good" })).status).toBe(200);
  });

  it("encrypts and decrypts with RSA-OAEP-256 as Key Vault does (base64url values)", async () => {
    const version = vault.createKey("wire", pem.toString());
    const path = `/keys/wire/${version}`;
    const secret = Buffer.from("0123456789abcdef0123456789abcdef");
    const encrypted = await call("POST", `${path}/encrypt?api-version=7.6`, {
      token: "good",
      body: { alg: "RSA-OAEP-256", value: secret.toString("base64url") },
    });
    expect(encrypted.status).toBe(200);
    expect(encrypted.body.kid).toBe(`${vault.url}${path}`);
    const ciphertext = Buffer.from(encrypted.body.value as string, "base64url");
    const oaep256 = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" };
    expect(privateDecrypt({ key: createPrivateKey(pem), ...oaep256 }, ciphertext).equals(secret)).toBe(true);

    const mine = publicEncrypt({ key: createPublicKey(createPrivateKey(pem)), ...oaep256 }, secret);
    const decrypted = await call("POST", `${path}/decrypt?api-version=7.6`, {
      token: "good",
      body: { alg: "RSA-OAEP-256", value: mine.toString("base64url") },
    });
    expect(Buffer.from(decrypted.body.value as string, "base64url").equals(secret)).toBe(true);
  });

  it("answers errors in Key Vault's shape", async () => {
    const missing = await call("GET", "/keys/nope?api-version=7.6", { token: "good" });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      error: { code: "KeyNotFound", message: "A key with (name/id) nope was not found in this key vault." },
    });
    expect((await call("GET", "/keys/kek", { token: "good" })).status).toBe(400);
    const version = vault.latestVersion("kek");
    const badAlg = await call("POST", `/keys/kek/${version}/encrypt?api-version=7.6`, {
      token: "good",
      body: { alg: "A256GCM", value: "AAAA" },
    });
    expect(badAlg.status).toBe(400);
    const badCiphertext = await call("POST", `/keys/kek/${version}/decrypt?api-version=7.6`, {
      token: "good",
      body: { alg: "RSA-OAEP-256", value: "AAAA" },
    });
    expect(badCiphertext.status).toBe(400);
    expect((badCiphertext.body.error as Record<string, unknown>).code).toBe("BadParameter");
  });

  it("records every request, so tests can see the challenge round trip", () => {
    expect(vault.requests[0]).toEqual({ method: "GET", path: "/keys/kek", authorized: false });
    expect(vault.requests.some((r) => r.authorized)).toBe(true);
  });
});

describe("Key Vault stand-in over plain HTTP", () => {
  it("serves http when tls is false", async () => {
    const plain = await startKeyVaultStandIn({ tls: false });
    try {
      expect(plain.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(plain.ca).toBeUndefined();
      const reply = await fetch(`${plain.url}/keys/x?api-version=7.6`);
      expect(reply.status).toBe(401);
      expect(reply.headers.get("www-authenticate")).toContain('resource="https://vault.azure.net"');
    } finally {
      await plain.close();
    }
  });
});

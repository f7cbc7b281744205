import { spawnSync } from "node:child_process";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommandFailure, ConfigError } from "../errors";
import { createEnvelopeEncryption, StaleKeyVersionError } from "./envelope";
import { createLocalKeyEncryptionKey, keyFingerprint, loadLocalKeyEncryptionKey } from "./local-key";
import {
  PYTHON_ENVELOPE,
  PYTHON_KEY_FINGERPRINT,
  PYTHON_KEY_PEM,
  PYTHON_PLAINTEXT,
} from "./python-envelope.fixture";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "victoria-local-key-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function keyFile(name: string, pem: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, pem);
  return path;
}

const newRsaPem = () =>
  generateKeyPairSync("rsa", { modulusLength: 2048 })
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString();

describe("local key encryption key", () => {
  it("names a key by the fingerprint Python (and openssl) compute for it", () => {
    expect(keyFingerprint(createPrivateKey(PYTHON_KEY_PEM))).toBe(PYTHON_KEY_FINGERPRINT);
  });

  it("decrypts an envelope made by Python's cryptography with the same RSA key (PKCS#8 file)", async () => {
    const kek = await loadLocalKeyEncryptionKey({ keyFile: await keyFile("py.pem", PYTHON_KEY_PEM) });
    expect(kek.version).toBe(PYTHON_KEY_FINGERPRINT);
    const plaintext = await createEnvelopeEncryption(kek).decrypt(PYTHON_ENVELOPE);
    expect(Buffer.from(plaintext).toString("utf8")).toBe(PYTHON_PLAINTEXT);
  });

  it("reads a PKCS#1 key file too", async () => {
    const pkcs1 = createPrivateKey(PYTHON_KEY_PEM).export({ type: "pkcs1", format: "pem" }).toString();
    expect(pkcs1).toContain("BEGIN RSA PRIVATE KEY");
    const kek = await loadLocalKeyEncryptionKey({ keyFile: await keyFile("py-pkcs1.pem", pkcs1) });
    expect(kek.version).toBe(PYTHON_KEY_FINGERPRINT);
    expect(Buffer.from(await createEnvelopeEncryption(kek).decrypt(PYTHON_ENVELOPE)).toString()).toBe(
      PYTHON_PLAINTEXT,
    );
  });

  const python = spawnSync("python3", ["-c", "import cryptography"], { stdio: "ignore" });
  it.skipIf(python.status !== 0)(
    "makes envelopes Python's cryptography decrypts (RSA-OAEP-256, ct||tag)",
    async () => {
      const kek = createLocalKeyEncryptionKey({ privateKey: createPrivateKey(PYTHON_KEY_PEM) });
      const envelope = await createEnvelopeEncryption(kek).encrypt(Buffer.from("from TypeScript ✓", "utf8"));
      // The Python Victoria's decrypt path, with the Azure call replaced by the same RSA-OAEP-256 locally.
      const script = `
import base64, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
request = json.load(sys.stdin)
key = serialization.load_pem_private_key(request["pem"].encode(), password=None)
env = request["envelope"]
data_key = key.decrypt(base64.b64decode(env["key"]), padding.OAEP(
    mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
plain = AESGCM(data_key).decrypt(base64.b64decode(env["iv"]), base64.b64decode(env["data"]), associated_data=None)
sys.stdout.write(plain.decode("utf-8"))
`;
      const result = spawnSync("python3", ["-c", script], {
        input: JSON.stringify({ pem: PYTHON_KEY_PEM, envelope }),
        encoding: "utf8",
      });
      expect(result.stderr).toBe("");
      expect(result.stdout).toBe("from TypeScript ✓");
    },
  );

  it("uses a configured version instead of the fingerprint", async () => {
    const kek = await loadLocalKeyEncryptionKey({
      keyFile: await keyFile("v.pem", PYTHON_KEY_PEM),
      version: "2024-01",
    });
    const provider = createEnvelopeEncryption(kek);
    const envelope = await provider.encrypt(Buffer.from("x"));
    expect(envelope.version).toBe("2024-01");
    await expect(provider.decrypt(PYTHON_ENVELOPE)).rejects.toBeInstanceOf(StaleKeyVersionError);
  });

  it("cannot unwrap with a version it does not hold, and says how to provide it", async () => {
    const kek = createLocalKeyEncryptionKey({ privateKey: createPrivateKey(newRsaPem()) });
    const failure = await kek.unwrap(Buffer.alloc(256), PYTHON_KEY_FINGERPRINT).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CommandFailure);
    expect((failure as Error).message).toContain(
      `Local key version ${PYTHON_KEY_FINGERPRINT} is not available`,
    );
    expect((failure as Error).message).toContain("previous_keys");
    // And a rotation from that version fails the same way, rather than trying the current key.
    await expect(createEnvelopeEncryption(kek).rotate(PYTHON_ENVELOPE)).rejects.toThrow(/is not available/);
  });

  it("rotates envelopes from a previous key to the current one", async () => {
    const kek = await loadLocalKeyEncryptionKey({
      keyFile: await keyFile("new.pem", newRsaPem()),
      previousKeyFiles: { [PYTHON_KEY_FINGERPRINT]: await keyFile("old.pem", PYTHON_KEY_PEM) },
    });
    const provider = createEnvelopeEncryption(kek);
    await expect(provider.decrypt(PYTHON_ENVELOPE)).rejects.toBeInstanceOf(StaleKeyVersionError);
    const rotated = await provider.rotate(PYTHON_ENVELOPE);
    expect(rotated.version).toBe(kek.version);
    expect(rotated.version).not.toBe(PYTHON_KEY_FINGERPRINT);
    expect(Buffer.from(await provider.decrypt(rotated)).toString()).toBe(PYTHON_PLAINTEXT);
  });

  it("fails clearly when the wrapped key belongs to another RSA key", async () => {
    const kek = createLocalKeyEncryptionKey({ privateKey: createPrivateKey(newRsaPem()) });
    const forged = { ...PYTHON_ENVELOPE, version: kek.version };
    await expect(createEnvelopeEncryption(kek).decrypt(forged)).rejects.toThrow(
      /Could not unwrap the data key with local key version .*: the envelope's 'key' is corrupt or was wrapped by another key/,
    );
  });

  describe("key files", () => {
    it("missing file: a ConfigError naming the field and path", async () => {
      const missing = join(dir, "nope.pem");
      await expect(loadLocalKeyEncryptionKey({ keyFile: missing })).rejects.toThrow(
        new ConfigError(
          `encryption_provider.config.key_file: cannot read key file '${missing}': no such file`,
        ),
      );
    });

    it("not a PEM key: names the file, never echoes its content", async () => {
      const path = await keyFile(
        "garbage.pem",
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0IHN0dWZm\n-----END PRIVATE KEY-----\n",
      );
      const failure = await loadLocalKeyEncryptionKey({ keyFile: path }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ConfigError);
      expect((failure as Error).message).toContain(path);
      expect((failure as Error).message).not.toContain("c2VjcmV0");
    });

    it("not an RSA key", async () => {
      const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
        type: "pkcs8",
        format: "pem",
      });
      const path = await keyFile("ec.pem", ec.toString());
      await expect(loadLocalKeyEncryptionKey({ keyFile: path })).rejects.toThrow(
        /holds a ec key; an RSA key is needed/,
      );
    });

    it("a bad previous key names its version", async () => {
      await expect(
        loadLocalKeyEncryptionKey({
          keyFile: await keyFile("cur.pem", PYTHON_KEY_PEM),
          previousKeyFiles: { old1: join(dir, "gone.pem") },
        }),
      ).rejects.toThrow(/encryption_provider\.config\.previous_keys\.old1: cannot read key file/);
    });
  });
});

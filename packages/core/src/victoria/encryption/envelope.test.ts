import { describe, expect, it } from "vitest";
import { CommandFailure } from "../errors";
import { createEnvelopeEncryption, type KeyEncryptionKey, StaleKeyVersionError } from "./envelope";
import type { EncryptionEnvelope } from "./envelope-types";

/** A test KEK that XORs the data key with one byte per version (0 = stored as is, so vectors show the raw key). */
function xorKek(masks: Record<string, number>, current: string): KeyEncryptionKey {
  const mask = (version: string) => {
    const m = masks[version];
    if (m === undefined) throw new CommandFailure(`test KEK has no version ${version}`);
    return m;
  };
  return {
    version: current,
    wrap: async (dataKey, version) => Uint8Array.from(dataKey, (b) => b ^ mask(version)),
    unwrap: async (wrapped, version) => Uint8Array.from(wrapped, (b) => b ^ mask(version)),
  };
}

/** Hands out the given byte strings in order, as the data key and then the nonce. */
function fixedRandom(...chunks: Buffer[]) {
  const queue = [...chunks];
  return (size: number) => {
    const next = queue.shift();
    if (next === undefined || next.length !== size)
      throw new Error(`unexpected request for ${size} random bytes`);
    return next;
  };
}

const hex = (text: string) => Buffer.from(text, "hex");
const utf8 = (text: string) => Buffer.from(text, "utf8");

// Computed with Python's `cryptography` (the library the Python Victoria used):
//   AESGCM(bytes(range(32))).encrypt(bytes(range(0xa0, 0xac)), "hello world — Victoria ✓".encode(), None)
//   then base64.b64encode(...) — ciphertext with the 16-byte tag appended.
const PY_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const PY_NONCE = Buffer.from(Array.from({ length: 12 }, (_, i) => 0xa0 + i));
const PY_PLAINTEXT = "hello world — Victoria ✓";
const PY_DATA = "jn0QQSrrddAQCePz5fpU/ibFOmT9xSsNvOy6FdKzEH3w86qBylrJ9J65pL0=";
const PY_EMPTY_DATA = "XGmWJa9Lk6D4IgoqYRnF0A==";

describe("envelope encryption: byte compatibility", () => {
  it("matches the envelope Python's AESGCM + b64encode makes for a known key, nonce and plaintext", async () => {
    const provider = createEnvelopeEncryption(xorKek({ raw: 0 }, "raw"), {
      randomBytes: fixedRandom(PY_KEY, PY_NONCE),
    });
    const envelope = await provider.encrypt(utf8(PY_PLAINTEXT));
    expect(envelope).toEqual({
      data: PY_DATA,
      iv: "oKGio6Slpqeoqaqr",
      key: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
      version: "raw",
    });
  });

  it("matches the GCM specification's AES-256 test case 15 (96-bit IV, no AAD): ciphertext then tag", async () => {
    // McGrew & Viega, "The Galois/Counter Mode of Operation", test case 15.
    const key = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    const iv = hex("cafebabefacedbaddecaf888");
    const plaintext = hex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" +
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
    );
    const expected =
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" +
      "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad" +
      "b094dac5d93471bdec1a502270e3cc6c";
    const provider = createEnvelopeEncryption(xorKek({ raw: 0 }, "raw"), {
      randomBytes: fixedRandom(key, iv),
    });
    const envelope = await provider.encrypt(plaintext);
    expect(Buffer.from(envelope.data, "base64").toString("hex")).toBe(expected);
    expect(Buffer.from(await provider.decrypt(envelope)).toString("hex")).toBe(plaintext.toString("hex"));
  });

  it("encrypts empty data to the tag alone, as Python does", async () => {
    const provider = createEnvelopeEncryption(xorKek({ raw: 0 }, "raw"), {
      randomBytes: fixedRandom(PY_KEY, PY_NONCE),
    });
    const envelope = await provider.encrypt(new Uint8Array());
    expect(envelope.data).toBe(PY_EMPTY_DATA);
    expect(Buffer.from(await provider.decrypt(envelope))).toHaveLength(0);
  });

  it("decrypts an envelope Python made", async () => {
    const provider = createEnvelopeEncryption(xorKek({ raw: 0 }, "raw"));
    const envelope = {
      data: PY_DATA,
      iv: "oKGio6Slpqeoqaqr",
      key: PY_KEY.toString("base64"),
      version: "raw",
    };
    expect(Buffer.from(await provider.decrypt(envelope)).toString("utf8")).toBe(PY_PLAINTEXT);
  });
});

describe("envelope encryption", () => {
  const kek = xorKek({ v1: 0x5a, v2: 0xa5 }, "v2");

  it("round-trips with a fresh data key and nonce per value", async () => {
    const provider = createEnvelopeEncryption(kek);
    const a = await provider.encrypt(utf8("same text"));
    const b = await provider.encrypt(utf8("same text"));
    expect(a.version).toBe("v2");
    expect(Buffer.from(a.iv, "base64")).toHaveLength(12);
    expect(Buffer.from(a.key, "base64")).toHaveLength(32);
    expect(a.iv).not.toBe(b.iv);
    expect(a.key).not.toBe(b.key);
    expect(a.data).not.toBe(b.data);
    expect(Buffer.from(await provider.decrypt(a)).toString()).toBe("same text");
    expect(Buffer.from(await provider.decrypt(b)).toString()).toBe("same text");
  });

  it("leaves the random source's buffers alone when it wipes the data key", async () => {
    const key = Buffer.from(PY_KEY);
    const provider = createEnvelopeEncryption(kek, { randomBytes: fixedRandom(key, Buffer.from(PY_NONCE)) });
    await provider.encrypt(utf8("x"));
    expect(key.equals(PY_KEY)).toBe(true);
  });

  it("refuses an envelope made with another key version, telling the user to rotate it", async () => {
    const old = await createEnvelopeEncryption(xorKek({ v1: 0x5a }, "v1")).encrypt(utf8("secret"));
    const provider = createEnvelopeEncryption(kek);
    const failure = await provider.decrypt(old).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StaleKeyVersionError);
    expect(failure).toBeInstanceOf(CommandFailure);
    expect((failure as Error).message).toContain("Encryption key version v1 is out of date");
    expect((failure as Error).message).toContain("victoria encrypt rotate <file> <path>");
  });

  it("rotates an old envelope to the current version, and to a chosen one", async () => {
    const old = await createEnvelopeEncryption(xorKek({ v1: 0x5a }, "v1")).encrypt(utf8("secret"));
    const provider = createEnvelopeEncryption(kek);
    const rotated = await provider.rotate(old);
    expect(rotated.version).toBe("v2");
    expect(rotated.key).not.toBe(old.key);
    expect(Buffer.from(await provider.decrypt(rotated)).toString()).toBe("secret");

    const back = await provider.rotate(rotated, "v1");
    expect(back.version).toBe("v1");
    const v1 = createEnvelopeEncryption(xorKek({ v1: 0x5a }, "v1"));
    expect(Buffer.from(await v1.decrypt(back)).toString()).toBe("secret");
  });

  describe("refuses damaged envelopes with a clear message", () => {
    const provider = createEnvelopeEncryption(kek);
    const good = () => provider.encrypt(utf8("secret"));
    const failureOf = async (change: (e: EncryptionEnvelope) => EncryptionEnvelope) => {
      const envelope = await good();
      const error = await provider.decrypt(change(envelope)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommandFailure);
      // Never the data key, wrapped or not.
      expect((error as Error).message).not.toContain(envelope.key);
      return (error as Error).message;
    };
    const flipFirstByte = (b64: string) => {
      const bytes = Buffer.from(b64, "base64");
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      return bytes.toString("base64");
    };

    it("altered ciphertext", async () => {
      expect(await failureOf((e) => ({ ...e, data: flipFirstByte(e.data) }))).toMatch(
        /authentication failed/,
      );
    });
    it("altered nonce", async () => {
      expect(await failureOf((e) => ({ ...e, iv: flipFirstByte(e.iv) }))).toMatch(/authentication failed/);
    });
    it("another envelope's data key", async () => {
      const other = await good();
      expect(await failureOf((e) => ({ ...e, key: other.key }))).toMatch(/authentication failed/);
    });
    it("bad base64", async () => {
      expect(await failureOf((e) => ({ ...e, data: "not base64!" }))).toBe(
        "Encrypted envelope field 'data' is not valid base64",
      );
      expect(await failureOf((e) => ({ ...e, iv: "oKGio6Slpqeoqaq" }))).toMatch(/'iv' is not valid base64/);
    });
    it("a nonce that is not 12 bytes", async () => {
      expect(await failureOf((e) => ({ ...e, iv: "AAAAAAAAAAAAAAAAAAAAAA==" }))).toMatch(
        /'iv' must be 12 bytes, got 16/,
      );
    });
    it("data too short to hold the tag", async () => {
      expect(await failureOf((e) => ({ ...e, data: "AAAA" }))).toMatch(/'data' is too short/);
    });
    it("a wrapped key that does not unwrap to 32 bytes", async () => {
      expect(await failureOf((e) => ({ ...e, key: "AAAA" }))).toMatch(
        /unwrapped data key is 3 bytes, not 32/,
      );
    });
  });

  it("accepts base64 folded over lines by YAML", async () => {
    const provider = createEnvelopeEncryption(kek);
    const envelope = await provider.encrypt(utf8("folded"));
    const folded = { ...envelope, key: `${envelope.key.slice(0, 20)} \n ${envelope.key.slice(20)}` };
    expect(Buffer.from(await provider.decrypt(folded)).toString()).toBe("folded");
  });
});

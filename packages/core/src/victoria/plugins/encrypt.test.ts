import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { victoriaConfigSchema } from "../config";
import { createEnvelopeEncryption, StaleKeyVersionError } from "../encryption/envelope";
import type { EncryptionEnvelope, EncryptionProvider } from "../encryption/envelope-types";
import { createLocalKeyEncryptionKey } from "../encryption/local-key";
import {
  PYTHON_ENVELOPE,
  PYTHON_KEY_FINGERPRINT,
  PYTHON_KEY_PEM,
  PYTHON_PLAINTEXT,
} from "../encryption/python-envelope.fixture";
import { CommandFailure } from "../errors";
import { BufferedOutput } from "../output";
import type { CommandContext } from "../plugin";
import { readLocalFile } from "../services";
import { encryptPlugin } from "./encrypt";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "victoria-encrypt-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pythonKey = createPrivateKey(PYTHON_KEY_PEM);
/** The Python fixture's key as the current key, so its envelope decrypts as is. */
const pythonProvider = () => createEnvelopeEncryption(createLocalKeyEncryptionKey({ privateKey: pythonKey }));

/** Runs one `encrypt` command the way the engine would, with the given provider. */
async function run(
  command: string,
  args: Record<string, string>,
  provider: EncryptionProvider = pythonProvider(),
) {
  const spec = encryptPlugin.commands.find((c) => c.name === command);
  if (spec === undefined) throw new Error(`no command ${command}`);
  const out = new BufferedOutput();
  const ctx: CommandContext = {
    config: victoriaConfigSchema.parse({ logging_config: {} }),
    configPath: null,
    pluginConfig: undefined,
    pluginArgs: {},
    args,
    out,
    services: {
      localFile: readLocalFile,
      encryption: async () => provider,
      storage: async () => {
        throw new Error("encrypt does not use storage");
      },
    },
    signal: new AbortController().signal,
  };
  await spec.run(ctx);
  return out.text();
}

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

const envelopeYaml = (e: EncryptionEnvelope, indent = "") =>
  [`data: ${e.data}`, `iv: ${e.iv}`, `key: ${e.key}`, `version: ${e.version}`]
    .map((l) => indent + l)
    .join("\n");

describe("encrypt plugin", () => {
  it("declares the commands and arguments the Python plugin had", () => {
    expect(encryptPlugin.name).toBe("encrypt");
    expect(encryptPlugin.summary).toBe("Envelope encrypt data easily.");
    expect(encryptPlugin.commands.map((c) => [c.name, c.args.map((a) => a.name)])).toEqual([
      ["data", ["plaintext"]],
      ["decrypt", ["file", "path"]],
      ["rotate", ["file", "path"]],
    ]);
  });

  it("data: prints exactly the four envelope lines, which decrypt back to the text", async () => {
    const provider = pythonProvider();
    const text = await run("data", { plaintext: "p@ss wörd" }, provider);
    const lines = text.split("\n");
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe("");
    expect(lines[0]).toMatch(/^data: [A-Za-z0-9+/]+=*$/);
    expect(lines[1]).toMatch(/^iv: [A-Za-z0-9+/]{16}$/);
    expect(lines[2]).toMatch(/^key: [A-Za-z0-9+/]+=*$/);
    expect(lines[3]).toBe(`version: ${PYTHON_KEY_FINGERPRINT}`);
    // The output is YAML ready to paste: parsing it gives the envelope.
    const envelope = parseYaml(text) as EncryptionEnvelope;
    expect(Buffer.from(await provider.decrypt(envelope)).toString()).toBe("p@ss wörd");
  });

  it("decrypt: finds the envelope at a slash path and prints the plaintext (Python's envelope)", async () => {
    const path = await file(
      "config.yaml",
      `plugin:\n  secrets:\n    db_password:\n${envelopeYaml(PYTHON_ENVELOPE, "      ")}\n  other: 1\n`,
    );
    expect(await run("decrypt", { file: path, path: "plugin/secrets/db_password" })).toBe(
      `${PYTHON_PLAINTEXT}\n`,
    );
    expect(await run("decrypt", { file: path, path: "/plugin/secrets/db_password/" })).toBe(
      `${PYTHON_PLAINTEXT}\n`,
    );
  });

  it("decrypt: reads JSON files, list items by index, and versions YAML would read as numbers", async () => {
    const provider = createEnvelopeEncryption(
      createLocalKeyEncryptionKey({ privateKey: pythonKey, version: "0123" }),
    );
    const envelope = await provider.encrypt(Buffer.from("from a list"));
    const json = await file(
      "secrets.json",
      JSON.stringify({ keys: [{ api: { ...envelope, version: "x" } }, { api: envelope }] }),
    );
    expect(await run("decrypt", { file: json, path: "keys/1/api" }, provider)).toBe("from a list\n");
    // Unquoted, as `encrypt data` prints it: still the string "0123", not the number 123.
    const yaml = await file("numeric.yaml", `api:\n${envelopeYaml(envelope, "  ")}\n`);
    expect(await run("decrypt", { file: yaml, path: "api" }, provider)).toBe("from a list\n");
  });

  it("rotate: prints the four lines of an envelope under the current key", async () => {
    const current = pythonProvider();
    const old = await createEnvelopeEncryption(
      createLocalKeyEncryptionKey({ privateKey: pythonKey, version: "old" }),
    ).encrypt(Buffer.from("rotate me"));
    const rotating = createEnvelopeEncryption(
      createLocalKeyEncryptionKey({ privateKey: pythonKey, previousKeys: { old: pythonKey } }),
    );
    const path = await file("old.yaml", `secret:\n${envelopeYaml(old, "  ")}\n`);
    await expect(run("decrypt", { file: path, path: "secret" }, rotating)).rejects.toBeInstanceOf(
      StaleKeyVersionError,
    );

    const text = await run("rotate", { file: path, path: "secret" }, rotating);
    expect(text.split("\n").map((l) => l.split(":")[0])).toEqual(["data", "iv", "key", "version", ""]);
    const rotated = parseYaml(text) as EncryptionEnvelope;
    expect(rotated.version).toBe(PYTHON_KEY_FINGERPRINT);
    expect(Buffer.from(await current.decrypt(rotated)).toString()).toBe("rotate me");
  });

  describe("failures name the file and path", () => {
    const failure = async (args: Record<string, string>) => {
      const error = await run("decrypt", args).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommandFailure);
      return (error as Error).message;
    };

    it("missing file", async () => {
      const path = join(dir, "absent.yaml");
      expect(await failure({ file: path, path: "a" })).toBe(`Could not open file '${path}': no such file`);
    });

    it("a directory", async () => {
      expect(await failure({ file: dir, path: "a" })).toBe(`Could not open file '${dir}': it is a directory`);
    });

    it("bad YAML, without quoting the file (it may hold secrets)", async () => {
      const path = await file("bad.yaml", "a:\n  b: [unclosed TOPSECRET\n");
      const message = await failure({ file: path, path: "a/b" });
      expect(message).toMatch(new RegExp(`^'${path}' is not valid YAML at line \\d+`));
      expect(message).not.toContain("TOPSECRET");
    });

    it("missing path, saying where the walk stopped", async () => {
      const path = await file("walk.yaml", `a:\n  b:\n${envelopeYaml(PYTHON_ENVELOPE, "    ")}\n`);
      expect(await failure({ file: path, path: "a/c" })).toBe(
        `Path 'a/c' not found in '${path}': no 'c' under 'a'`,
      );
      expect(await failure({ file: path, path: "x" })).toBe(
        `Path 'x' not found in '${path}': no 'x' under the top level`,
      );
      expect(await failure({ file: path, path: "a/b/data/more" })).toBe(
        `Path 'a/b/data/more' not found in '${path}': 'a/b/data' holds no keys`,
      );
      expect(await failure({ file: path, path: "a.b" })).toMatch(/paths are separated by '\/'/);
    });

    it("a value that is not an envelope names the bad fields", async () => {
      const path = await file("partial.yaml", `s:\n  data: abc\n  key: def\n  version: "1"\n`);
      expect(await failure({ file: path, path: "s" })).toMatch(
        new RegExp(
          `^The value at 's' of '${path}' is not an encrypted envelope \\{data, iv, key, version\\}: iv: `,
        ),
      );
      const scalar = await file("scalar.yaml", "s: just text\n");
      expect(await failure({ file: scalar, path: "s" })).toMatch(/is not an encrypted envelope/);
    });

    it("an envelope that fails to decrypt", async () => {
      const path = await file(
        "tampered.yaml",
        `s:\n${envelopeYaml({ ...PYTHON_ENVELOPE, data: `AAAA${PYTHON_ENVELOPE.data.slice(4)}` }, "  ")}\n`,
      );
      expect(await failure({ file: path, path: "s" })).toMatch(/authentication failed/);
    });
  });

  it("encrypts with a fresh RSA key too (not only the fixture's)", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const provider = createEnvelopeEncryption(createLocalKeyEncryptionKey({ privateKey }));
    const envelope = parseYaml(await run("data", { plaintext: "fresh" }, provider)) as EncryptionEnvelope;
    const path = await file("fresh.yaml", `v:\n${envelopeYaml(envelope, "  ")}\n`);
    expect(await run("decrypt", { file: path, path: "v" }, provider)).toBe("fresh\n");
  });
});

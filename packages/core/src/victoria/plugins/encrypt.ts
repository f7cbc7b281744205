import { parse as parseYaml, YAMLError } from "yaml";
import { describeIssues } from "../../validation/describe-issues";
import * as z from "../../validation/zod";
import type { EncryptionEnvelope } from "../encryption/envelope-types";
import { CommandFailure } from "../errors";
import type { Output } from "../output";
import { type CommandContext, definePlugin, type OptionSpec } from "../plugin";

/** An envelope as it sits in a YAML/JSON file; extra keys are ignored. */
export const encryptionEnvelopeSchema = z.object({
  data: z.string().check(z.minLength(1)),
  iv: z.string().check(z.minLength(1)),
  key: z.string().check(z.minLength(1)),
  version: z.string().check(z.minLength(1)),
});

/** The four lines `encrypt data` and `encrypt rotate` print: YAML ready to paste into a config file. */
export function printEnvelope(out: Output, envelope: EncryptionEnvelope): void {
  out.out(`data: ${envelope.data}`);
  out.out(`iv: ${envelope.iv}`);
  out.out(`key: ${envelope.key}`);
  out.out(`version: ${envelope.version}`);
}

/** Parses envelope YAML/JSON, naming `source` and the position in errors (never the content). */
function parseDocument(text: string, source: string): unknown {
  try {
    // Failsafe schema: every scalar stays a string, so a version like 1e10 or 0123 is read as written.
    return parseYaml(text, { schema: "failsafe" });
  } catch (error) {
    // Position only: the parser's message quotes the file, which may hold secrets.
    const where = error instanceof YAMLError && error.linePos ? ` at line ${error.linePos[0].line}` : "";
    const code = error instanceof YAMLError ? ` (${error.code})` : "";
    throw new CommandFailure(`${source} is not valid YAML${where}${code}`);
  }
}

/**
 * Where the envelope comes from: `--envelope TEXT` (inline; PATH optional), `--store PROVIDER FILE
 * PATH` (a stored file), or `FILE PATH` (a local file: the CLI only; remote callers name no file).
 */
async function readDocument(
  ctx: CommandContext,
): Promise<{ document: unknown; source: string; path: string }> {
  const inline = ctx.options?.envelope;
  const store = ctx.options?.store;
  if (typeof inline === "string") {
    if (typeof store === "string" || ctx.args.path !== undefined) {
      throw new CommandFailure("With --envelope, give at most a PATH (no FILE, no --store).", {
        failureClass: "usage",
      });
    }
    return { document: parseDocument(inline, "--envelope"), source: "--envelope", path: ctx.args.file ?? "" };
  }
  const file = ctx.args.file;
  const path = ctx.args.path;
  if (file === undefined || path === undefined) {
    throw new CommandFailure("Give FILE and PATH (or --envelope TEXT).", { failureClass: "usage" });
  }
  if (typeof store === "string") {
    const bytes = await (await ctx.services.storage(store)).get(file);
    const source = `'${file}' in storage provider '${store}'`;
    return { document: parseDocument(Buffer.from(bytes).toString("utf8"), source), source, path };
  }
  const bytes = await ctx.services.localFile(file, "FILE");
  return {
    document: parseDocument(Buffer.from(bytes).toString("utf8"), `'${file}'`),
    source: `'${file}'`,
    path,
  };
}

/**
 * Walks a slash-separated path (`secrets/db_password`, list items by index: `keys/0`), as dpath did.
 * Dots are not separators: YAML keys may contain them.
 */
function walk(document: unknown, path: string, file: string): unknown {
  const segments = path.split("/").filter((segment) => segment !== "");
  let node = document;
  const seen: string[] = [];
  for (const segment of segments) {
    const here = seen.length === 0 ? "the top level" : `'${seen.join("/")}'`;
    let next: unknown;
    if (Array.isArray(node)) {
      next = /^\d+$/.test(segment) ? node[Number(segment)] : undefined;
    } else if (node !== null && typeof node === "object") {
      next = Object.hasOwn(node, segment) ? (node as Record<string, unknown>)[segment] : undefined;
    } else {
      throw new CommandFailure(`Path '${path}' not found in ${file}: ${here} holds no keys`, {
        failureClass: "not_found",
      });
    }
    if (next === undefined) {
      const hint = !path.includes("/") && path.includes(".") ? " (paths are separated by '/', e.g. a/b)" : "";
      throw new CommandFailure(`Path '${path}' not found in ${file}: no '${segment}' under ${here}${hint}`, {
        failureClass: "not_found",
      });
    }
    seen.push(segment);
    node = next;
  }
  return node;
}

async function readEnvelope(ctx: CommandContext): Promise<EncryptionEnvelope> {
  const { document, source, path } = await readDocument(ctx);
  const found = walk(document, path, source);
  const result = encryptionEnvelopeSchema.safeParse(found);
  if (!result.success) {
    const at = path === "" ? "The top level" : `The value at '${path}'`;
    throw new CommandFailure(
      `${at} of ${source} is not an encrypted envelope {data, iv, key, version}: ${describeIssues(result.error)}`,
    );
  }
  return result.data;
}

function required(args: Record<string, string | undefined>, name: string): string {
  const value = args[name];
  // The engine enforces required arguments; this keeps the types honest.
  if (value === undefined) throw new CommandFailure(`Missing argument '${name}'`);
  return value;
}

const fileArg = {
  name: "file",
  description: "YAML (or JSON) file holding the envelope: a local file, or with --store a stored one",
  optional: true,
};
const pathArg = {
  name: "path",
  description: "slash-separated path to the envelope in the file, e.g. secrets/api_key",
  optional: true,
};
const sourceOptions: OptionSpec[] = [
  {
    name: "store",
    description: "FILE is a key in this storage provider (local, azure, s3), not a local file.",
    takesValue: true,
    metavar: "PROVIDER",
  },
  {
    name: "envelope",
    description: "The envelope itself, as YAML or JSON; then the one positional, if any, is the PATH.",
    takesValue: true,
    metavar: "TEXT",
  },
];

export const encryptPlugin = definePlugin({
  name: "encrypt",
  summary: "Envelope encrypt data easily.",
  commands: [
    {
      name: "data",
      summary: "Envelope encrypt a piece of data.",
      args: [{ name: "plaintext", description: "the text to encrypt" }],
      // Its command line holds the plaintext: the reply echoes it, so only the requester sees it.
      sensitive: true,
      async run(ctx) {
        const provider = await ctx.services.encryption();
        const envelope = await provider.encrypt(Buffer.from(required(ctx.args, "plaintext"), "utf8"));
        printEnvelope(ctx.out, envelope);
      },
    },
    {
      name: "decrypt",
      summary: "Decrypt a piece of data.",
      args: [fileArg, pathArg],
      options: sourceOptions,
      sensitive: true,
      async run(ctx) {
        const envelope = await readEnvelope(ctx);
        const provider = await ctx.services.encryption();
        const plaintext = await provider.decrypt(envelope);
        let text: string;
        try {
          text = new TextDecoder("utf-8", { fatal: true }).decode(plaintext);
        } catch {
          throw new CommandFailure("The decrypted data is not UTF-8 text");
        }
        ctx.out.out(text);
      },
    },
    {
      name: "rotate",
      summary: "Re-encrypt an envelope with the latest key version (after the key was rotated).",
      args: [fileArg, pathArg],
      options: sourceOptions,
      sensitive: false,
      async run(ctx) {
        const envelope = await readEnvelope(ctx);
        const provider = await ctx.services.encryption();
        printEnvelope(ctx.out, await provider.rotate(envelope));
      },
    },
  ],
});

import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { CommandFailure } from "../errors";
import { definePlugin } from "../plugin";

/** `store <provider> ls|get|put`: the Python Victoria's example store plugin, as a core plugin. */
export const storePlugin = definePlugin({
  name: "store",
  summary: "Store files/data in cloud storage.",
  pluginArgs: [
    {
      name: "provider",
      description: "The storage provider to use: a key of storage_providers (local, azure, s3).",
    },
  ],
  commands: [
    {
      name: "ls",
      summary: "List files in cloud storage.",
      args: [],
      async run(ctx) {
        const storage = await ctx.services.storage(ctx.pluginArgs.provider ?? "");
        for (const key of await storage.ls()) ctx.out.out(key);
      },
    },
    {
      name: "get",
      summary: "Get a file from KEY in cloud storage and print it.",
      args: [{ name: "key", description: "The key of the file in storage." }],
      async run(ctx) {
        const key = ctx.args.key ?? "";
        const storage = await ctx.services.storage(ctx.pluginArgs.provider ?? "");
        ctx.out.out(new TextDecoder("utf-8").decode(await storage.get(key)));
      },
    },
    {
      name: "put",
      summary: "Put a file at FILENAME into cloud storage, under an optional KEY.",
      args: [
        { name: "filename", description: "The local file to upload." },
        { name: "key", description: "The key to store it under (default: the file's name).", optional: true },
      ],
      async run(ctx) {
        const filename = ctx.args.filename ?? "";
        const provider = ctx.pluginArgs.provider ?? "";
        const key = ctx.args.key || basename(filename);
        let data: Buffer;
        try {
          data = await readFile(filename);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          const reason =
            code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : String(code);
          throw new CommandFailure(`Could not open file '${filename}': ${reason}`);
        }
        const storage = await ctx.services.storage(provider);
        await storage.put(key, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        ctx.out.out(
          `Uploaded '${filename}' to '${key}' in storage provider '${provider}' (${data.byteLength} bytes)`,
        );
      },
    },
  ],
});

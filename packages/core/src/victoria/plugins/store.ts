import { basename } from "node:path";
import { CommandFailure } from "../errors";
import { definePlugin } from "../plugin";

const dataOption = {
  name: "data",
  description:
    "Store TEXT itself (UTF-8) instead of a file; the one positional is then the KEY. The way to put data from Slack or /execute, where no file may be named.",
  takesValue: true,
  metavar: "TEXT",
};

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
      sensitive: false,
      async run(ctx) {
        const storage = await ctx.services.storage(ctx.pluginArgs.provider ?? "");
        for (const key of await storage.ls()) ctx.out.out(key);
      },
    },
    {
      name: "get",
      summary: "Get a file from KEY in cloud storage and print it.",
      args: [{ name: "key", description: "The key of the file in storage." }],
      // Stored files are where teams keep their encrypted configs and keys.
      sensitive: true,
      async run(ctx) {
        const key = ctx.args.key ?? "";
        const storage = await ctx.services.storage(ctx.pluginArgs.provider ?? "");
        ctx.out.out(new TextDecoder("utf-8").decode(await storage.get(key)));
      },
    },
    {
      name: "put",
      summary:
        "Put a local file at FILENAME into cloud storage, under an optional KEY; or, with --data TEXT, TEXT under KEY.",
      args: [
        { name: "filename", description: "The local file to upload (with --data: the KEY)." },
        { name: "key", description: "The key to store it under (default: the file's name).", optional: true },
      ],
      options: [dataOption],
      sensitive: false,
      async run(ctx) {
        const provider = ctx.pluginArgs.provider ?? "";
        const inline = ctx.options?.data;
        let data: Uint8Array;
        let key: string;
        let what: string;
        if (typeof inline === "string") {
          if (ctx.args.key !== undefined) {
            throw new CommandFailure("With --data, give only the KEY (no FILENAME).", {
              failureClass: "usage",
            });
          }
          key = ctx.args.filename ?? "";
          data = new TextEncoder().encode(inline);
          what = "--data";
        } else {
          const filename = ctx.args.filename ?? "";
          data = await ctx.services.localFile(filename, "FILENAME");
          key = ctx.args.key || basename(filename);
          what = `'${filename}'`;
        }
        const storage = await ctx.services.storage(provider);
        await storage.put(key, data);
        ctx.out.out(
          `Uploaded ${what} to '${key}' in storage provider '${provider}' (${data.byteLength} bytes)`,
        );
      },
    },
  ],
});

import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  readLocalServerHandoff,
  withLocalServerSettings,
  writeLocalServerHandoff,
} from "./local-server-handoff";

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "victoria-handoff-"));
  file = join(dir, ".victoria/local-server.json");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const running = () => true;

describe("local server handoff", () => {
  it("writes the stand-ins' settings for this process, private to its user, and removes them when asked", async () => {
    const remove = await writeLocalServerHandoff(
      {
        SERVICE_BUS_CONNECTIONS: '{"local":"Endpoint=sb://127.0.0.1:1"}',
        VAULT_DIR: ".victoria/vault",
        SMTP_URL: "",
      },
      file,
    );
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, "utf8"))).toMatchObject({ pid: process.pid });
    expect(await readLocalServerHandoff(file)).toEqual({
      SERVICE_BUS_CONNECTIONS: '{"local":"Endpoint=sb://127.0.0.1:1"}',
      VAULT_DIR: resolve(".victoria/vault"),
    });
    await remove();
    expect(await readLocalServerHandoff(file)).toBeUndefined();
  });

  it("refuses a setting it does not hand over, and leaves a newer server's file alone", async () => {
    await expect(writeLocalServerHandoff({ AWS_SECRET_ACCESS_KEY: "x" } as never, file)).rejects.toThrow(
      "AWS_SECRET_ACCESS_KEY is not a setting the local server hands to the CLI",
    );
    const removeOld = await writeLocalServerHandoff({ SMTP_URL: "smtp://old" }, file);
    await writeLocalServerHandoff({ SMTP_URL: "smtp://new" }, file);
    await removeOld();
    expect(await readLocalServerHandoff(file)).toEqual({ SMTP_URL: "smtp://new" });
  });

  it("ignores the file of a server that is gone, a corrupt file and unknown names in it", async () => {
    await writeLocalServerHandoff({ SMTP_URL: "smtp://x" }, file);
    expect(await readLocalServerHandoff(file, () => false)).toBeUndefined();
    await writeFile(file, "{nope");
    expect(await readLocalServerHandoff(file, running)).toBeUndefined();
    await writeFile(
      file,
      JSON.stringify({ pid: 1, settings: { PATH: "/evil", SMTP_URL: "smtp://y", MAIL_FROM: 3 } }),
    );
    expect(await readLocalServerHandoff(file, running)).toEqual({ SMTP_URL: "smtp://y" });
    expect(await readLocalServerHandoff(join(dir, "missing.json"), running)).toBeUndefined();
  });

  it("fills in what the environment does not set, a pair (Slack, SMTP) only when it sets neither half", async () => {
    await writeLocalServerHandoff(
      {
        SERVICE_BUS_CONNECTIONS: '{"local":"sb"}',
        SLACK_API_URL: "http://127.0.0.1:3001/api/",
        SLACK_BOT_TOKEN: "xoxb-dev-bot-token",
        SMTP_URL: "smtp://127.0.0.1:2525",
        MAIL_FROM: "victoria@localhost",
      },
      file,
    );
    const taken = await withLocalServerSettings(
      { PATH: "/bin", SLACK_BOT_TOKEN: "xoxb-real", MAIL_FROM: "" },
      file,
    );
    expect(taken.adopted).toEqual(["SERVICE_BUS_CONNECTIONS", "SMTP_URL", "MAIL_FROM"]);
    expect(taken.env).toEqual({
      PATH: "/bin",
      SERVICE_BUS_CONNECTIONS: '{"local":"sb"}',
      // The real token is never sent to the stand-in's URL, nor replaced by the stand-in's token.
      SLACK_BOT_TOKEN: "xoxb-real",
      SMTP_URL: "smtp://127.0.0.1:2525",
      MAIL_FROM: "victoria@localhost",
    });
    const own = await withLocalServerSettings({ SERVICE_BUS_CONNECTIONS: '{"prod":"x"}' }, file);
    expect(own.env.SERVICE_BUS_CONNECTIONS).toBe('{"prod":"x"}');
    expect(own.adopted).not.toContain("SERVICE_BUS_CONNECTIONS");
    expect((await withLocalServerSettings({ PATH: "/bin" }, join(dir, "none.json"))).env).toEqual({
      PATH: "/bin",
    });
  });
});

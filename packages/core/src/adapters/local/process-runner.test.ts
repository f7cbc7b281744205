import { access, chmod, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_TIMEOUT } from "../../ports";
import { CommandSpawnError, createProcessRunner } from "./process-runner";

let dir: string;
let script: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "victoria-bin-"));
  script = join(dir, "fake-victoria");
  // A stand-in executable: echoes its argv as JSON, fails, sleeps or floods on request.
  await writeFile(
    script,
    `#!${process.execPath}
const args = process.argv.slice(2);
if (args[0] === "fail") { console.log("partial output"); console.error("Error: it broke"); process.exit(3); }
if (args[0] === "sleep") setTimeout(() => {}, 60_000);
else if (args[0] === "flood") process.stdout.write("x".repeat(200_000));
else console.log(JSON.stringify(args));
`,
  );
  await chmod(script, 0o755);
});

describe("external victoria executable", () => {
  it("passes arguments as an array, never through a shell", async () => {
    const runner = createProcessRunner({ bin: script, timeoutMs: 5_000 });
    const marker = join(dir, "pwned");
    const args = ["config", "view", `$(touch ${marker})`, "; rm -rf /", "'quoted' \"words\""];
    const result = await runner.run(args);
    expect(result).toEqual({ exitCode: 0, output: `${JSON.stringify(args)}\n`, sensitive: true });
    await expect(access(marker)).rejects.toThrow();
  });

  it("reports a non-zero exit with stdout and stderr", async () => {
    const result = await createProcessRunner({ bin: script, timeoutMs: 5_000 }).run(["fail"]);
    expect(result.exitCode).toBe(3);
    expect(result.output).toContain("partial output");
    expect(result.output).toContain("Error: it broke");
  });

  it("kills a command that outlives its time budget", async () => {
    const started = Date.now();
    const result = await createProcessRunner({ bin: script, timeoutMs: 300 }).run(["sleep"]);
    expect(result.exitCode).toBe(EXIT_TIMEOUT);
    expect(result.output).toContain("timed out after 300 ms");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("bounds the output it keeps", async () => {
    const result = await createProcessRunner({ bin: script, timeoutMs: 5_000, maxOutputBytes: 1000 }).run([
      "flood",
    ]);
    expect(result.exitCode).toBe(0);
    expect(result.output).toBe(`${"x".repeat(1000)}\n[output truncated]\n`);
  });

  it("rejects with CommandSpawnError when the executable does not exist", async () => {
    const runner = createProcessRunner({ bin: join(dir, "missing"), timeoutMs: 1_000 });
    await expect(runner.run([])).rejects.toThrow(CommandSpawnError);
    await expect(runner.run([])).rejects.toThrow(/ENOENT/);
  });
});

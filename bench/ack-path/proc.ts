/** Child processes for the run: pinned spawns, their stdout lines, and /proc readings of a pid. */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { pinned } from "../lib/stats";

export interface Child {
  process: ChildProcess;
  pid: number;
  /** Resolves with the rest of the first (not yet consumed) stdout line starting with `prefix`. */
  line(prefix: string, timeoutMs: number): Promise<string>;
  stderr(): string;
}

/** `taskset -c <core> node <args>`; taskset execs, so the pid is node's own. */
export function spawnPinned(
  core: number,
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Child {
  const [command, argv] = pinned(core, process.execPath, args);
  const child = spawn(command, argv, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined || !child.stdout) throw new Error(`Could not start ${args.join(" ")}`);
  const seen: string[] = [];
  const waiters = new Set<() => void>();
  let exited = false;
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  createInterface({ input: child.stdout }).on("line", (text) => {
    seen.push(text);
    for (const wake of waiters) wake();
  });
  child.once("exit", () => {
    exited = true;
    for (const wake of waiters) wake();
  });

  const line = (prefix: string, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const index = seen.findIndex((text) => text.startsWith(prefix));
        if (index >= 0) return done(() => resolve((seen.splice(index, 1)[0] as string).slice(prefix.length)));
        if (exited) done(() => reject(new Error(`${args.join(" ")} exited before "${prefix}": ${stderr}`)));
      };
      const timer = setTimeout(
        () =>
          done(() =>
            reject(new Error(`No "${prefix}" from ${args.join(" ")} in ${timeoutMs} ms: ${stderr}`)),
          ),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });

  return { process: child, pid: child.pid, line, stderr: () => stderr };
}

/** SIGTERM, then wait for the exit (SIGKILL after 5 s). */
export async function stop(child: Child): Promise<void> {
  const { process: proc } = child;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** Resident memory now and its high-water mark (VmHWM: the peak over the process's life), in MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** CPU seconds (user + system) the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the `(comm)`: state is field 3, so utime (14) and stime (15) are at 11 and 12.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds the whole machine has spent busy (all cores, steal included), from /proc/stat. */
export function machineBusySeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (
    [user, nice, system, irq, softirq, steal].reduce<number>((sum, t) => sum + (t ?? 0), 0) / CLOCK_TICKS
  );
}

/**
 * The machine a bench runs on: pinning, the header table, and how busy other processes kept it.
 * The workplace is shared, so each run also reports the CPU that was not ours: a figure taken
 * while someone else was compiling or benchmarking can then be told apart.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { markdownTable } from "../lib/stats";

/** Pins this process (all its threads) to a core, so load generation stays off the server's core. */
export function pinSelf(core: number): void {
  if (process.platform !== "linux") return;
  try {
    execFileSync("taskset", ["-a", "-p", "-c", String(core), String(process.pid)], { stdio: "ignore" });
  } catch {
    // No taskset: run unpinned, as `pinned` does.
  }
}

/** Busy and total clock ticks of all CPUs (/proc/stat); zeros where there is no /proc. */
function machineTicks(): { busy: number; total: number } {
  try {
    const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1, 9);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
      fields.map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/**
 * Ticks used by this process and its reaped children: spawned servers and the CLIs they ran are
 * waited for, so once stopped their time is in cutime/cstime.
 */
function ourTicks(): number {
  try {
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  } catch {
    return 0;
  }
}

/**
 * Starts measuring; the returned function gives the share (0–100 %) of all cores that other
 * processes used since. Read it after the run's servers have stopped, or their time is not ours yet.
 */
export function otherCpuMeter(): () => number {
  const machine = machineTicks();
  const ours = ourTicks();
  return () => {
    const now = machineTicks();
    const total = now.total - machine.total;
    if (total <= 0) return Number.NaN;
    return Math.max(0, (100 * (now.busy - machine.busy - (ourTicks() - ours))) / total);
  };
}

/** Waits (up to `maxMs`) for a second in which other processes use under `threshold` % of the CPUs. */
export async function waitForQuiet(maxMs = 120_000, threshold = 10): Promise<number> {
  const started = Date.now();
  for (;;) {
    const other = otherCpuMeter();
    await new Promise((done) => setTimeout(done, 1_000));
    const busy = other();
    if (!(busy >= threshold) || Date.now() - started >= maxMs) return busy;
  }
}

const loadAtStart = loadavg()[0] ?? 0;

/** Date, machine, cores and Node version (and the 1-minute load average), as a Markdown table. */
export function environmentTable(): string {
  return markdownTable(
    ["date", "machine", "cores", "node", "load avg 1 min, start → end"],
    [
      [
        new Date().toISOString(),
        cpus()[0]?.model ?? "unknown",
        String(cpus().length),
        process.version,
        `${loadAtStart.toFixed(2)} → ${(loadavg()[0] ?? 0).toFixed(2)}`,
      ],
    ],
  );
}

export interface CleanRun<T> {
  value: T;
  /** Other processes' share of all cores (%) during the kept attempt. */
  otherCpu: number;
  /** Other processes' share during attempts thrown away because someone else was busy. */
  discarded: number[];
}

/**
 * Runs `measure` once the machine is quiet, and again (at most `attempts` times in all) while other
 * processes took more than `threshold` % of the cores: a shared machine must not decide a goal.
 * The last attempt is kept whatever happened; its `otherCpu` says how clean it was.
 */
export async function cleanRun<T>(
  measure: () => Promise<T> | T,
  { attempts = 3, threshold = 10 }: { attempts?: number; threshold?: number } = {},
): Promise<CleanRun<T>> {
  const discarded: number[] = [];
  for (;;) {
    await waitForQuiet();
    const other = otherCpuMeter();
    const value = await measure();
    const otherCpu = other();
    if (otherCpu <= threshold || discarded.length + 1 >= attempts) return { value, otherCpu, discarded };
    process.stderr.write(`  (discarded: other processes took ${otherCpu.toFixed(0)} % CPU; again)\n`);
    discarded.push(otherCpu);
  }
}

/** Where commands print. Commands never touch process stdout, so `/execute` can capture them. */
export interface Output {
  /** Print one line (a trailing newline is added), like Python's print(). */
  out(text: string): void;
  /** Print one line of diagnostics (usage errors, failures). */
  err(text: string): void;
}

/** Captures everything printed, in order, as a terminal would show it (stdout and stderr interleaved). */
export class BufferedOutput implements Output {
  private readonly chunks: string[] = [];
  private bytes = 0;
  private truncated = false;

  constructor(private readonly maxBytes = 1024 * 1024) {}

  out(text: string): void {
    this.push(text);
  }

  err(text: string): void {
    this.push(text);
  }

  private push(text: string): void {
    if (this.truncated) return;
    const line = `${text}\n`;
    if (this.bytes + line.length > this.maxBytes) {
      this.chunks.push(line.slice(0, Math.max(0, this.maxBytes - this.bytes)), "\n[output truncated]\n");
      this.truncated = true;
      return;
    }
    this.bytes += line.length;
    this.chunks.push(line);
  }

  text(): string {
    return this.chunks.join("");
  }
}

/** Writes to the process streams; used by the command-line entry point. */
export const processOutput: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/**
 * JSON with the characters a terminal would act on escaped: JSON.stringify escapes C0 controls but
 * not DEL, C1 controls or bidi overrides. Parsed, the values are exactly the original's.
 */
export function terminalSafeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

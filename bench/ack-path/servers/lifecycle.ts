/** What every contender server shares: where to listen, how to say it is up, how to stop. */
import type { Server } from "node:net";

export const HOST = "127.0.0.1";

/** `node <server> [port]`; 0 (the default) lets the OS choose, and READY says which. */
export function portFromArgv(): number {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
  if (!Number.isInteger(port) || port < 0) throw new Error(`Bad port: ${process.argv[2]}`);
  return port;
}

/** Prints `READY <port>` (the orchestrator waits for it) and exits on SIGTERM/SIGINT. */
export function announce(server: Server): void {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : Number.NaN;
  process.stdout.write(`READY ${port}\n`);
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      // Keep-alive sockets would hold close() open; the benchmark is over, so just go.
      server.close();
      process.exit(0);
    });
  }
}

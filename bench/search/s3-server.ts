/**
 * The S3 stand-in in a process of its own (the bench pins it to the other core), so the vault's
 * client and the "server" do not share one event loop. Prints its endpoint as one JSON line.
 */
import { startS3StandIn } from "@victoria/emulators/s3";

const s3 = await startS3StandIn({ host: "127.0.0.1", port: 0, buckets: [process.argv[2] ?? "bench-vault"] });
process.stdout.write(`${JSON.stringify({ endpoint: s3.endpoint, region: s3.region })}\n`);
process.on("SIGTERM", () => {
  void s3.close().then(() => process.exit(0));
});

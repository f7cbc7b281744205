// Types of bundle-stamp.mjs, for the TypeScript build script and tests that use it.
export declare const STAMP_FILE: string;
export declare function writeBundleStamp(
  outDir: string,
  inputs: readonly string[],
  startedAtMs: number,
): number;
export declare function bundleStaleReason(outDir: string, bundleFile: string): string | undefined;
export declare function stampedInputCount(outDir: string): number;

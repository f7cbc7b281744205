import type { S3Client } from "@aws-sdk/client-s3";
import { createRecentCommandStore, type RecentCommandStore } from "../../app-home/recent-commands";
import { createS3VersionedJson } from "./s3-versioned-json";

export interface S3RecentCommandStoreOptions {
  client: S3Client;
  bucket: string;
  /** Folder-like prefix; lists are `<prefix>home/<userId>.json`. */
  prefix?: string;
}

/**
 * Each person's recent commands as one object in the vault bucket, `home/<userId>.json`, written
 * only conditionally (s3-versioned-json.ts): two commands finishing at once both land.
 *
 * Grants: `s3:GetObject`, `s3:PutObject` on `<bucket>/<prefix>home/*` (the worker's vault grant).
 */
export function createS3RecentCommandStore(options: S3RecentCommandStoreOptions): RecentCommandStore {
  const objects = createS3VersionedJson({
    ...options,
    name: "home",
    what: (id) => `Recent commands of ${id}`,
  });
  return createRecentCommandStore<string>({
    read: async (userId) => {
      const stored = await objects.read(userId);
      return stored && { text: stored.text, token: stored.etag };
    },
    create: (userId, text) => objects.create(userId, text),
    replace: (userId, text, etag) => objects.replace(userId, text, etag),
    where: objects.where,
  });
}

/**
 * Where a vault keeps its search index (see vault-index.ts): a handful of named objects beside the
 * records, in the vault's own store. Names are relative to the index's folder and use `/` as a
 * separator (`manifest.json`, `segments/…`, `changes/…`). Each adapter provides it over what it
 * already uses for records: files with link/rename and a lock, or S3 with conditional writes.
 */
export interface IndexStorage {
  /** The object's text and a tag that changes whenever the object does; undefined when absent. */
  read(name: string): Promise<{ text: string; tag: string } | undefined>;
  /** Creates `name` unless it exists (atomic); false when it already did. */
  create(name: string, text: string): Promise<boolean>;
  /** Replaces `name` only while its tag is still `tag` (atomic); false when it changed or vanished. */
  replace(name: string, text: string, tag: string): Promise<boolean>;
  /** Writes `name`, replacing what is there. */
  write(name: string, text: string): Promise<void>;
  /** The objects directly below `folder` (which ends with `/`), with when each was last written. */
  list(folder: string): Promise<{ name: string; modifiedMs: number }[]>;
  /** Removes `name`; removing what is not there is not an error. */
  remove(name: string): Promise<void>;
}

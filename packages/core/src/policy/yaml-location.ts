import { type Document, isMap, isScalar, isSeq, type LineCounter, type Node } from "yaml";

/** 1-based, as editors count. */
export interface SourcePosition {
  line: number;
  column: number;
}

/**
 * Where the value at `path` is written: the key of a mapping entry (so `count:` is found even when its
 * value is empty), the item of a list; when the path goes further than the file does (a missing key),
 * the deepest part that exists, i.e. the mapping the key should be in.
 */
export function locate(
  doc: Document,
  lines: LineCounter,
  path: readonly (string | number)[],
): SourcePosition {
  const root = doc.contents as Node | null;
  let offset = root?.range?.[0] ?? 0;
  let node: unknown = root;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (pair === undefined) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment] as Node | undefined;
      if (item === undefined || item === null) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

import { createHash } from "node:crypto";
import type { DeadLetter, MessageBody, PropertyValue } from "./dead-letter";
import { findJsonProblem } from "./repair-json";

/**
 * A replay with edits ("repair and resubmit"): the body replaced, application properties set or
 * removed. The original stays in the vault record's `message`; the edited one goes in its `repair`.
 */
export interface RepairEdits {
  /** The new body as text; it keeps the body's kind (see `editedBody`). */
  body?: string;
  /** `KEY` → text; typed like the property it replaces (see `typedValue`). */
  set?: Record<string, string>;
  unset?: string[];
}

/** Application property counting replays of one message, so a poison message cannot loop forever. */
export const REPLAY_COUNT_PROPERTY = "x-victoria-replay-count";

export const REPAIR_LIMITS = {
  /** Service Bus standard tier's largest message. */
  bodyBytes: 256 * 1024,
  keyLength: 128,
  /** Properties set or removed by one repair. */
  changedProperties: 64,
} as const;

/** What is wrong with the edits, and which of them: the body, or the properties. */
export class RepairError extends Error {
  override readonly name = "RepairError";
  constructor(
    readonly field: "body" | "properties",
    message: string,
  ) {
    super(message);
  }
}

export interface RepairedMessage {
  message: DeadLetter;
  /** `body`, `set KEY`, `unset KEY`; empty when the edits change nothing. */
  changes: string[];
  /** `sha256:<hex>` of the new body's bytes when the body changed. */
  bodyDigest?: string;
}

/** The body's bytes as they go on the bus: what the size limit and the digest are about. */
function bodyBytes(body: MessageBody): Buffer {
  switch (body.kind) {
    case "bytes":
      return Buffer.from(body.base64, "base64");
    case "text":
      return Buffer.from(body.text, "utf8");
    case "json":
      return Buffer.from(JSON.stringify(body.value), "utf8");
    case "empty":
      return Buffer.alloc(0);
  }
}

const isJsonContentType = (contentType: string | undefined) =>
  contentType !== undefined && /(^|[/+])json\b/i.test(contentType);

/**
 * `text` as a body of the original's kind: JSON must parse (the error says where it does not) and
 * is stored as JSON; text stays text; a binary body becomes the text's UTF-8 bytes. An empty body
 * becomes JSON when the content type says so, text otherwise.
 */
export function editedBody(
  original: MessageBody,
  contentType: string | undefined,
  text: string,
): MessageBody {
  const size = Buffer.byteLength(text, "utf8");
  if (size > REPAIR_LIMITS.bodyBytes) {
    throw new RepairError(
      "body",
      `The body is ${size} bytes; at most ${REPAIR_LIMITS.bodyBytes} (256 KiB, Service Bus standard) can be sent.`,
    );
  }
  const json = original.kind === "json" || (original.kind === "empty" && isJsonContentType(contentType));
  if (json) {
    try {
      return { kind: "json", value: JSON.parse(text) as unknown };
    } catch {
      const found = findJsonProblem(text);
      const where = found ? ` at line ${found.line}, column ${found.column}: ${found.problem}` : "";
      throw new RepairError("body", `The body is not valid JSON${where}.`);
    }
  }
  if (original.kind === "bytes")
    return { kind: "bytes", base64: Buffer.from(text, "utf8").toString("base64") };
  return { kind: "text", text };
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Service Bus application properties are typed, and consumers read them typed (`amount > 100` in
 * a SQL filter, `props.retries + 1` in code): a property keeps its type when the new text reads as
 * that type (`5` for a number, `true`/`false` for a boolean, `null` for null), else it becomes a
 * string. A new property is a string: guessing would turn an id like `007` into the number 7.
 */
export function typedValue(existing: PropertyValue | undefined, text: string): PropertyValue {
  if (typeof existing === "number" && JSON_NUMBER.test(text) && Number.isFinite(Number(text)))
    return Number(text);
  if (typeof existing === "boolean" && (text === "true" || text === "false")) return text === "true";
  if (existing === null && text === "null") return null;
  return text;
}

function checkKey(key: string, what: string): void {
  if (key === "") throw new RepairError("properties", `${what}: a property needs a name.`);
  if (key.length > REPAIR_LIMITS.keyLength) {
    throw new RepairError(
      "properties",
      `${what}: property names are at most ${REPAIR_LIMITS.keyLength} characters (this one has ${key.length}).`,
    );
  }
  if (key === REPLAY_COUNT_PROPERTY) {
    throw new RepairError(
      "properties",
      `${what} ${REPLAY_COUNT_PROPERTY}: Victoria counts replays with it (the replay limit depends on it), so it cannot be changed.`,
    );
  }
}

const own = (object: object, key: string) => Object.hasOwn(object, key);

/**
 * The message with the edits applied, and what changed. Throws `RepairError` for edits that cannot
 * be applied: bad JSON, a body or property name too large, the replay counter, a key both set and
 * removed, removing a property the message does not have, too many properties changed.
 */
export function applyRepair(original: DeadLetter, edits: RepairEdits): RepairedMessage {
  const changes: string[] = [];
  let body = original.body;
  let bodyDigest: string | undefined;
  if (edits.body !== undefined && !(original.body.kind === "empty" && edits.body === "")) {
    const next = editedBody(original.body, original.contentType, edits.body);
    const bytes = bodyBytes(next);
    // Compared as sent: pretty-printed JSON that parses to the same value is no change.
    if (next.kind !== original.body.kind || !bytes.equals(bodyBytes(original.body))) {
      body = next;
      changes.push("body");
      bodyDigest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    }
  }

  const properties: Record<string, PropertyValue> = { ...original.applicationProperties };
  const set = edits.set ?? {};
  const unset = [...new Set(edits.unset ?? [])];
  for (const key of unset) {
    checkKey(key, "unset");
    if (own(set, key)) throw new RepairError("properties", `'${key}' is both set and unset; choose one.`);
    if (!own(properties, key))
      throw new RepairError("properties", `unset ${key}: the message has no such property.`);
  }
  const setChanges: string[] = [];
  for (const [key, text] of Object.entries(set)) {
    checkKey(key, "set");
    const existing = own(properties, key) ? properties[key] : undefined;
    const value = typedValue(existing, text);
    if (own(properties, key) && existing === value) continue;
    properties[key] = value;
    setChanges.push(`set ${key}`);
  }
  for (const key of unset) delete properties[key];
  const propertyChanges = [...setChanges, ...unset.map((key) => `unset ${key}`)];
  if (propertyChanges.length > REPAIR_LIMITS.changedProperties) {
    throw new RepairError(
      "properties",
      `${propertyChanges.length} properties changed; one repair may change at most ${REPAIR_LIMITS.changedProperties}.`,
    );
  }
  changes.push(...propertyChanges);
  return {
    message: { ...original, body, applicationProperties: properties },
    changes,
    ...(bodyDigest ? { bodyDigest } : {}),
  };
}

/**
 * `KEY=VALUE` pairs (`--set`, the dialog's lines) as a map; the first `=` splits, so values may hold
 * more. `what` names the source in errors (`--set`, `line 3`).
 */
export function parseAssignments(pairs: readonly { text: string; what: string }[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const { text, what } of pairs) {
    const eq = text.indexOf("=");
    if (eq <= 0) throw new RepairError("properties", `${what}: expected KEY=VALUE, got '${text}'.`);
    const key = text.slice(0, eq).trim();
    if (own(result, key)) throw new RepairError("properties", `${what}: '${key}' is given twice.`);
    result[key] = text.slice(eq + 1);
  }
  return result;
}

/** The edits in a few words for people (the notification, the CLI): `body, set tenant, unset x`. */
export function describeChanges(changes: readonly string[]): string {
  return changes.length === 0 ? "nothing changed" : changes.join(", ");
}

/** True when the edits ask for anything at all (an empty `--set` list is no edit). */
export function hasEdits(edits: RepairEdits | undefined): edits is RepairEdits {
  return (
    edits !== undefined &&
    (edits.body !== undefined || Object.keys(edits.set ?? {}).length > 0 || (edits.unset ?? []).length > 0)
  );
}

import { randomUUID } from "node:crypto";

/**
 * Service Bus puts a message's lock token in the delivery tag as a .NET GUID: the first three
 * fields little-endian. The SDK swaps those bytes back (`reorderLockToken`) before formatting the
 * tag as `lockToken`, and sends `string_to_uuid(lockToken)` (plain big-endian bytes) to
 * `$management`. So the broker keeps the token as a UUID string, tags deliveries with the swapped
 * bytes, and reads management lock tokens as plain UUIDs.
 */
export function newLockToken(): string {
  return randomUUID();
}

function uuidBytes(token: string): Buffer {
  return Buffer.from(token.replace(/-/g, ""), "hex");
}

function uuidString(bytes: Buffer): string {
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Swaps the GUID's first three fields between big- and little-endian (its own inverse). */
function swapGuidFields(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  out.writeUInt32LE(bytes.readUInt32BE(0), 0);
  out.writeUInt16LE(bytes.readUInt16BE(4), 4);
  out.writeUInt16LE(bytes.readUInt16BE(6), 6);
  return out;
}

export function deliveryTagFor(token: string): Buffer {
  return swapGuidFields(uuidBytes(token));
}

export function lockTokenOfTag(tag: Buffer): string | undefined {
  return tag.length === 16 ? uuidString(swapGuidFields(tag)) : undefined;
}

/** A lock token as `$management` carries it: a 16-byte uuid (rhea decodes those as Buffers). */
export function lockTokenOfUuid(value: unknown): string | undefined {
  if (Buffer.isBuffer(value) && value.length === 16) return uuidString(value);
  if (typeof value === "string" && /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(value)) {
    return value.toLowerCase();
  }
  return undefined;
}

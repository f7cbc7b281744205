import { createHash } from "node:crypto";
import type { DeadLetter, EntityRef } from "./dead-letter";
import { entityPath } from "./dead-letter";

/**
 * The same dead letter always gets the same id: cluster, entity, sequence number (unique per
 * entity) and message id. Parking after a crash between park and complete finds the first record.
 */
export function vaultRecordId(
  cluster: string,
  entity: EntityRef,
  message: Pick<DeadLetter, "sequenceNumber" | "messageId">,
): string {
  return createHash("sha256")
    .update([cluster, entityPath(entity), message.sequenceNumber, message.messageId].join("\u0000"))
    .digest("hex")
    .slice(0, 32);
}

import { APPROVAL_STATES, type ApprovalRequest } from "./approval";

// How a stored approval request is written and read back, the same for every store.

export function encodeApprovalRequest(request: ApprovalRequest): string {
  return `${JSON.stringify(request, null, 2)}\n`;
}

/** Parses a stored request, failing with a message that names it rather than a bare SyntaxError. */
export function parseApprovalRequest(id: string, text: string, where: string): ApprovalRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`Approval request ${id} is corrupt (${where}): not valid JSON`);
  }
  const problem = problemWith(id, value);
  if (problem) throw new Error(`Approval request ${id} is corrupt (${where}): ${problem}`);
  return value as ApprovalRequest;
}

/** Checks what the stores and transitions rely on; the rest is ours to have written. */
function problemWith(id: string, value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const request = value as Partial<Record<keyof ApprovalRequest, unknown>>;
  if (request.id !== id) return `it holds id ${JSON.stringify(request.id)}`;
  if (!(APPROVAL_STATES as readonly unknown[]).includes(request.state)) {
    return `unknown state ${JSON.stringify(request.state)}`;
  }
  if (!Number.isInteger(request.version)) return "no integer version";
  if (!Array.isArray(request.command) || !request.command.every((word) => typeof word === "string")) {
    return "no command";
  }
  if (!Array.isArray(request.approvals)) return "no approvals list";
  if (!Number.isInteger(request.count)) return "no integer count";
  if (typeof request.expiresAt !== "string") return "no expiresAt";
  const requester = request.requester as { slackId?: unknown } | null | undefined;
  if (typeof requester?.slackId !== "string") return "no requester";
  return undefined;
}

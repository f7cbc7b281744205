/** Parses SERVICE_BUS_CONNECTIONS, naming the variable (never its values) when it is wrong. */
export function parseServiceBusConnections(raw: string | undefined): Record<string, string> {
  if (raw === undefined || raw === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error('SERVICE_BUS_CONNECTIONS is not JSON; expected {"<cluster>": "<connection string>"}');
  }
  if (
    parsed === null ||
    typeof parsed !== "object" ||
    Array.isArray(parsed) ||
    !Object.values(parsed).every((v) => typeof v === "string" && v.length > 0)
  ) {
    throw new Error('SERVICE_BUS_CONNECTIONS must be a JSON object {"<cluster>": "<connection string>"}');
  }
  // Cluster names compare in lower case (Azure lowercases resource ids in alerts).
  return Object.fromEntries(
    Object.entries(parsed as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
  );
}

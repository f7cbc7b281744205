/** SERVICE_BUS_CONNECTIONS: connection string per cluster (names in lower case). */
export type ServiceBusConnections = Readonly<Record<string, string>>;

/**
 * The connection for a cluster, or undefined. Own properties only: cluster names come from alerts,
 * and one named `constructor`, `__proto__` or `toString` must be unknown, not an inherited member.
 */
export function connectionFor(connections: ServiceBusConnections, cluster: string): string | undefined {
  return Object.hasOwn(connections, cluster) ? connections[cluster] : undefined;
}

/**
 * Parses SERVICE_BUS_CONNECTIONS, naming the variable (never its values) when it is wrong. The
 * result has no prototype, so even a plain `connections[name]` cannot reach an inherited member.
 */
export function parseServiceBusConnections(raw: string | undefined): Record<string, string> {
  const connections: Record<string, string> = Object.create(null);
  if (raw === undefined || raw === "") return connections;
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
  for (const [cluster, connection] of Object.entries(parsed as Record<string, string>)) {
    connections[cluster.toLowerCase()] = connection;
  }
  return connections;
}

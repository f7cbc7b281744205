import type { Bus } from "@victoria/core/deadletter/bus";
import type { Vault } from "@victoria/core/deadletter/vault";
import { createBus, createVault } from "../dead-letter-wiring";
import type { Env } from "../settings";

/**
 * What the routes and jobs of one process share: one Service Bus connection per cluster and one
 * vault. Both load their SDK on first use, so holding them costs nothing until then.
 */
export interface SharedResources {
  bus: Bus;
  vault(): Vault;
}

export function createSharedResources(env: Env): SharedResources {
  let vault: Vault | undefined;
  return {
    bus: createBus(env),
    vault: () => {
      vault ??= createVault(env);
      return vault;
    },
  };
}

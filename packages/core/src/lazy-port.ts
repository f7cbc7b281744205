/** Ports whose every member is a method answering with a promise (all our adapters' ports are). */
type AsyncMethods<T> = { [K in keyof T]: (...args: never[]) => Promise<unknown> };

/**
 * A port whose adapter is imported on its first call. SDK-backed adapters (S3, Service Bus, Slack's
 * WebClient, the Victoria engine) cost tens of milliseconds of module compilation; a process that
 * may never call them (the local server with no cloud configured, a Lambda whose event takes
 * another path) should not pay that before it can answer. `methods` lists every member, so the
 * compiler catches a port that grows one. `unloaded` answers a call made before anything loaded
 * (closing a bus that never connected need not load the SDK to close it). A failed load is not
 * cached: the next call tries again.
 */
export function lazyPort<T extends AsyncMethods<T>>(
  methods: { readonly [K in keyof T]-?: true },
  load: () => Promise<T>,
  unloaded: Partial<T> = {},
): T {
  let loading: Promise<T> | undefined;
  const port = (): Promise<T> => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
  const lazy = {} as Record<keyof T, (...args: unknown[]) => Promise<unknown>>;
  for (const name of Object.keys(methods) as (keyof T)[]) {
    lazy[name] = async (...args: unknown[]) => {
      const early = unloaded[name] as ((...a: unknown[]) => Promise<unknown>) | undefined;
      if (loading === undefined && early !== undefined) return early(...args);
      const loaded = (await port()) as unknown as Record<keyof T, (...a: unknown[]) => Promise<unknown>>;
      return loaded[name](...args);
    };
  }
  return lazy as unknown as T;
}

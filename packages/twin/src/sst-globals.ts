import {
  type ComponentRef,
  type DeclaredValue,
  describeValue,
  isTwinRef,
  type TwinRef,
} from "./declared-value";

/**
 * Recording stand-ins for the globals SST gives `sst.config.ts` and `infra/*.ts` (`$config`, `$app`,
 * `sst`, `aws`, `$interpolate`, `$concat`, `$dev`). Every component constructed (`new
 * sst.aws.Function("Worker", args)`, `new aws.lambda.FunctionEventInvokeConfig(…)`, any other) is
 * recorded with its arguments; its outputs (`worker.name`, `vault.nodes.bucket.arn`) are opaque
 * `OutputRef`s that refuse to become plain text, as Pulumi outputs do, and `$interpolate` builds
 * text from them part by part. Nothing is deployed and nothing is computed from an output.
 */

/** A stand-in for a Pulumi Output: one component output, or text built by `$interpolate`. */
export class OutputRef {
  constructor(
    readonly parts: readonly (string | TwinRef)[],
    /** Built by `$interpolate`/`$concat` (declared as `{parts}` even when it is one output). */
    readonly interpolated: boolean,
  ) {}

  /** `{component, property}` for one output, `{parts}` for interpolated text. */
  toDeclared(): DeclaredValue {
    const [only] = this.parts;
    if (!this.interpolated && this.parts.length === 1 && isTwinRef(only)) return only;
    return { parts: this.parts };
  }

  toString(): string {
    throw new Error(`Output ${describeValue(this.toDeclared())} used in a plain string: use $interpolate`);
  }

  [Symbol.toPrimitive](): string {
    return this.toString();
  }

  apply(): never {
    throw new Error(
      `Output ${describeValue(this.toDeclared())}.apply(): the twin records declarations and cannot compute with outputs`,
    );
  }
}

/** One component constructed by the config, as it was called. */
export interface RecordedCall {
  /** The constructor's path: `sst.aws.Function`, `aws.lambda.FunctionEventInvokeConfig`. */
  kind: string;
  /** Its name, the first constructor argument: `Worker`. */
  id: string;
  args: unknown;
  opts: unknown;
}

/** The `$app` SST gives a running config: what `app()` returned, for the stage being deployed. */
export interface AppGlobal {
  name: string;
  stage: string;
  removal: string;
  protect: boolean;
  providers: Record<string, unknown>;
}

export interface SstGlobals {
  /** The values to install on `globalThis` (`Object.assign(globalThis, globals)`). */
  readonly globals: Record<string, unknown>;
  /** Fills `$app`: call after `app()` and before `run()`, as SST does. */
  setApp(app: AppGlobal): void;
  /** Every component constructed so far, in order. */
  readonly calls: readonly RecordedCall[];
  /** The component an object passed as a value stands for (a component instance), if any. */
  componentOf(value: unknown): ComponentRef | undefined;
}

/** The names `createSstGlobals().globals` defines, to remove them again. */
export const SST_GLOBAL_NAMES = ["$config", "$app", "$dev", "sst", "aws", "$interpolate", "$concat"] as const;

export function createSstGlobals(): SstGlobals {
  const calls: RecordedCall[] = [];
  const instances = new WeakMap<object, ComponentRef>();
  const app: Partial<AppGlobal> = {};

  /** A component's outputs: any property but `nodes`, whose members are the child components. */
  function instanceFor(component: string, kind: string, prefix = ""): object {
    const instance: object = new Proxy(
      {},
      {
        get(_target, prop) {
          if (typeof prop === "symbol" || prop === "then") return undefined;
          if (prop === "nodes") return nodesOf(component, `${prefix}nodes.`);
          return new OutputRef([{ component, property: `${prefix}${prop}` }], false);
        },
      },
    );
    instances.set(instance, { component: prefix ? `${component}.${prefix.slice(0, -1)}` : component, kind });
    return instance;
  }

  function nodesOf(component: string, prefix: string): object {
    return new Proxy(
      {},
      {
        get(_target, prop) {
          if (typeof prop === "symbol" || prop === "then") return undefined;
          return instanceFor(component, "node", `${prefix}${prop}.`);
        },
      },
    );
  }

  /**
   * `sst.aws`, `aws.lambda`, …: a lowercase member is a nested namespace, a capitalised one a
   * component class whose construction is recorded. A namespace called as a function
   * (`aws.getCallerIdentityOutput()`) gives an opaque result whose members are outputs.
   */
  function namespace(path: string): object {
    const classes = new Map<string, unknown>();
    const members = new Map<string, object>();
    return new Proxy(() => {}, {
      get(_target, prop) {
        if (typeof prop === "symbol" || prop === "then") return undefined;
        const kind = `${path}.${prop}`;
        if (/^[a-z$_]/.test(prop)) {
          if (!members.has(kind)) members.set(kind, namespace(kind));
          return members.get(kind);
        }
        if (!classes.has(kind)) {
          classes.set(
            kind,
            class {
              constructor(id: string, args?: unknown, opts?: unknown) {
                const instance = instanceFor(id, kind);
                calls.push({ kind, id, args, opts });
                // biome-ignore lint/correctness/noConstructorReturn: the proxy stands in for the component.
                return instance;
              }
            },
          );
        }
        return classes.get(kind);
      },
      apply() {
        return instanceFor(path, "call");
      },
    });
  }

  const textOf = (value: unknown): readonly (string | TwinRef)[] =>
    value instanceof OutputRef ? value.parts : [String(value)];

  function interpolated(parts: readonly (string | TwinRef)[]): OutputRef {
    const merged: (string | TwinRef)[] = [];
    for (const part of parts) {
      const last = merged[merged.length - 1];
      if (typeof part === "string" && typeof last === "string") merged[merged.length - 1] = last + part;
      else if (part !== "") merged.push(part);
    }
    return new OutputRef(merged, true);
  }

  const globals: Record<string, unknown> = {
    $config: (config: unknown) => config,
    $app: app,
    $dev: false,
    sst: namespace("sst"),
    aws: namespace("aws"),
    $interpolate: (strings: TemplateStringsArray, ...values: unknown[]) =>
      interpolated(strings.flatMap((text, i) => (i < values.length ? [text, ...textOf(values[i])] : [text]))),
    $concat: (...values: unknown[]) => interpolated(values.flatMap(textOf)),
  };

  return {
    globals,
    setApp: (settings) => Object.assign(app, settings),
    calls,
    componentOf: (value) => (typeof value === "object" && value !== null ? instances.get(value) : undefined),
  };
}

/**
 * A recorded value as plain data (structured-cloneable, JSON-able): outputs as declared values,
 * components as `ComponentRef`s, functions as `"<function name>"`, except a `transform`'s
 * functions, which are applied to an empty argument object to record what they set.
 */
export function toPlain(
  value: unknown,
  globals: SstGlobals,
  path = "args",
  seen = new Set<object>(),
): unknown {
  if (value instanceof OutputRef) return value.toDeclared();
  const component = globals.componentOf(value);
  if (component) return component;
  if (typeof value === "function") return `<function ${value.name || "anonymous"}>`;
  if (typeof value === "symbol") return value.toString();
  if (typeof value !== "object" || value === null) return value;
  if (seen.has(value)) throw new Error(`${path} refers to itself: a declaration must be plain data`);
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v, i) => toPlain(v, globals, `${path}[${i}]`, seen));
    const entries = Object.entries(value).map(([key, v]) => {
      if (key === "transform" && typeof v === "object" && v !== null) {
        const applied = Object.fromEntries(
          Object.entries(v).map(([target, t]) => [
            target,
            typeof t === "function" ? appliedTransform(t as (...parameters: unknown[]) => unknown) : t,
          ]),
        );
        return [key, toPlain(applied, globals, `${path}.${key}`, seen)];
      }
      return [key, toPlain(v, globals, `${path}.${key}`, seen)];
    });
    return Object.fromEntries(entries);
  } finally {
    seen.delete(value);
  }
}

/** What a transform function sets, applied to empty arguments and options. */
function appliedTransform(transform: (...parameters: unknown[]) => unknown): object {
  const args = {};
  transform(args, {}, "");
  return args;
}

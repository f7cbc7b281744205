/**
 * Every schema in the product is built with zod's mini API, imported from here with
 * `import * as z` (never from "zod"). The classic API attaches its whole method set to each schema
 * it creates and its module is four times the size: loading it cost ~28 ms of a fresh process
 * against ~13 ms for mini, on every Lambda cold start. Mini loads no error messages by default;
 * English is set here once, so users read the messages the classic API gave.
 */
import { en } from "zod/locales";
import * as z from "zod/mini";

z.config(en());

// Re-exported member by member (not as one namespace object) so bundlers keep only what is used.
export * from "zod/mini";

/** `schema`, or `fallback()` when the value is null or absent (YAML leaves an empty key null). */
export function orDefault<T extends z.ZodMiniType>(schema: T, fallback: () => z.output<T>) {
  return z.pipe(
    z.nullish(schema),
    z.transform((value: z.output<T> | null | undefined): z.output<T> => value ?? fallback()),
  );
}

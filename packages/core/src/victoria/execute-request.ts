import * as z from "../validation/zod";

export const MAX_ARGS = 64;
export const MAX_ARG_LENGTH = 4096;
/** Room for an email address (254) or a `slack:U…` id. */
export const MAX_REQUESTER_LENGTH = 256;
/** Above any Service Bus max delivery count (at most 2,000) plus the first attempt. */
export const MAX_ATTEMPT = 10_000;

/** A lone surrogate cannot become UTF-8 (an argv, a log line, Slack) without turning into U+FFFD. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** A control character in a name would break a log line, an audit record or VICTORIA_ACTOR's env. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** The signed body of `POST /execute`: one Victoria command line, and who asked for it. */
export const executeRequestSchema = z.object({
  args: z
    .array(
      z.string().check(
        z.maxLength(MAX_ARG_LENGTH, `each argument must be at most ${MAX_ARG_LENGTH} characters`),
        // NUL ends a C string: an argv cannot hold it, and what follows would silently vanish.
        z.refine((arg) => !arg.includes("\u0000"), "contains a NUL byte, which no argument may hold"),
        z.refine((arg) => !LONE_SURROGATE.test(arg), "is not valid Unicode (a lone surrogate)"),
      ),
      { error: "args must be an array of strings" },
    )
    .check(z.maxLength(MAX_ARGS, `at most ${MAX_ARGS} arguments`)),
  /**
   * The request id, which correlates every hop: the caller's, kept when well-formed (REQUEST_ID_PATTERN);
   * anything else is ignored and a fresh one minted, never an error. In the body, so the signature covers it.
   */
  requestId: z.optional(z.unknown()),
  /**
   * Who asked (e.g. `slack:U123`, an email): the actor the command runs as (audit, dead-letter
   * resolutions) and the failed-request envelope's requester. In the body, so a captured request
   * cannot be replayed as someone else; an `X-Victoria-Requester` header is ignored.
   */
  requester: z.optional(
    z.string({ error: "requester must be a string" }).check(
      z.minLength(1, "requester must not be empty"),
      z.maxLength(MAX_REQUESTER_LENGTH, `requester must be at most ${MAX_REQUESTER_LENGTH} characters`),
      z.refine((name) => !CONTROL_CHARACTER.test(name), "requester contains a control character"),
      z.refine((name) => !LONE_SURROGATE.test(name), "requester is not valid Unicode (a lone surrogate)"),
    ),
  ),
  /**
   * Which attempt this is: 1 (or absent) for a first run; the retry consumer sends 2 and up, and a
   * retry's failure is not published again. Signed for the same reason; `X-Victoria-Retry` is ignored.
   */
  attempt: z.optional(
    z
      .int({ error: "attempt must be a whole number" })
      .check(
        z.gte(1, "attempt must be at least 1"),
        z.lte(MAX_ATTEMPT, `attempt must be at most ${MAX_ATTEMPT}`),
      ),
  ),
});
export type ExecuteRequest = z.infer<typeof executeRequestSchema>;

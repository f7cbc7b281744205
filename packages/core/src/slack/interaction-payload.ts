import { describeIssues } from "../validation/describe-issues";
import * as z from "../validation/zod";

const blockActionsSchema = z.object({
  type: z.literal("block_actions"),
  user: z.object({ id: z.string() }),
  team: z.nullish(z.object({ id: z.string() })),
  channel: z.nullish(z.object({ id: z.string() })),
  container: z.nullish(
    z.looseObject({
      /** `message` for a click on a message; `view` for one on a modal or the App Home tab. */
      type: z.optional(z.string()),
      channel_id: z.optional(z.string()),
      message_ts: z.optional(z.string()),
    }),
  ),
  /** The view clicked in (`type: "home"` for the App Home tab); absent for a message. */
  view: z.nullish(z.looseObject({ id: z.optional(z.string()), type: z.optional(z.string()) })),
  message: z.nullish(z.looseObject({ ts: z.string() })),
  response_url: z.optional(z.string()),
  trigger_id: z.string(),
  actions: z
    .array(z.looseObject({ action_id: z.string(), value: z.optional(z.string()) }))
    .check(z.minLength(1)),
});

const viewSubmissionSchema = z.object({
  type: z.literal("view_submission"),
  user: z.object({ id: z.string() }),
  team: z.nullish(z.object({ id: z.string() })),
  view: z.object({
    id: z.optional(z.string()),
    callback_id: z.string(),
    private_metadata: z.string(),
    state: z.object({
      values: z.record(z.string(), z.record(z.string(), z.looseObject({ value: z.nullish(z.string()) }))),
    }),
  }),
});

const interactionSchema = z.discriminatedUnion("type", [blockActionsSchema, viewSubmissionSchema]);

/** A button click or a dialog submission, as Slack posts it to the interactivity URL. */
export type Interaction = z.infer<typeof interactionSchema>;
export type BlockActions = z.infer<typeof blockActionsSchema>;
export type ViewSubmission = z.infer<typeof viewSubmissionSchema>;

/** What `/resolve` answers Slack; the route only maps it to HTTP. */
export type InteractionAnswer =
  /** `200` with an empty body: handled (or not ours), nothing to show. */
  | { kind: "ack" }
  /** `200` with a `response_action` body (field errors, an updated or cleared dialog). */
  | { kind: "json"; body: Record<string, unknown> }
  /** `400` with `message`. */
  | { kind: "bad-request"; message: string };

export type ParsedInteraction =
  | { ok: true; interaction: Interaction }
  | { ok: false; answer: InteractionAnswer };

/** Reads the form field `payload` (null when absent) as an interaction we handle, or says what to answer. */
export function parseInteraction(payloadText: string | null): ParsedInteraction {
  if (payloadText === null)
    return badRequest("Expected a form field 'payload' holding Slack's interaction JSON");
  let raw: unknown;
  try {
    raw = JSON.parse(payloadText);
  } catch {
    return badRequest("The 'payload' field is not JSON");
  }
  const type = (raw as { type?: unknown } | null)?.type;
  if (type !== "block_actions" && type !== "view_submission") {
    // Shortcuts, view_closed and the like are not ours: acknowledge so Slack does not show an error.
    return { ok: false, answer: { kind: "ack" } };
  }
  const parsed = interactionSchema.safeParse(raw);
  if (!parsed.success) return badRequest(`Not a Slack interaction payload: ${describeIssues(parsed.error)}`);
  return { ok: true, interaction: parsed.data };
}

function badRequest(message: string): ParsedInteraction {
  return { ok: false, answer: { kind: "bad-request", message } };
}

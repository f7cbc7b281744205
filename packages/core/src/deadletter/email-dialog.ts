import * as z from "../validation/zod";

export const EMAIL_CALLBACK_ID = "deadletter_email";

/** What the email and repair dialogs carry from the click to the submission. */
export const dialogMetadataSchema = z.object({
  recordId: z.string(),
  channel: z.optional(z.string()),
  messageTs: z.optional(z.string()),
  responseUrl: z.optional(z.string()),
  /** The button was on the App Home tab: the answer goes to the person's DM with the app. */
  origin: z.optional(z.literal("home")),
});

export type DialogMetadata = z.infer<typeof dialogMetadataSchema>;

/** The modal the Email button opens: a recipient and an optional note. */
export function emailDialog(metadata: DialogMetadata): Record<string, unknown> {
  return {
    type: "modal",
    callback_id: EMAIL_CALLBACK_ID,
    private_metadata: JSON.stringify(metadata),
    title: { type: "plain_text", text: "Email dead letter" },
    submit: { type: "plain_text", text: "Send" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      {
        type: "input",
        block_id: "recipient",
        label: { type: "plain_text", text: "Recipient" },
        element: {
          type: "email_text_input",
          action_id: "address",
          placeholder: { type: "plain_text", text: "team@example.com" },
        },
      },
      {
        type: "input",
        block_id: "note",
        optional: true,
        label: { type: "plain_text", text: "Note" },
        element: { type: "plain_text_input", action_id: "text", multiline: true, max_length: 1000 },
      },
    ],
  };
}

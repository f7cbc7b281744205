import {
  cleanPlainText,
  code,
  escapeWithin,
  joinMrkdwn,
  type Mrkdwn,
  mention,
  mrkdwn,
  truncateMrkdwn,
} from "../slack/slack-text";
import { type DeadLetter, entityPath, type PropertyValue } from "./dead-letter";
import {
  applyRepair,
  parseAssignments,
  REPLAY_COUNT_PROPERTY,
  type RepairEdits,
  RepairError,
  typedValue,
} from "./repair";
import type { VaultRecord } from "./vault";

/*
 * The Repair… dialog (a Slack modal): the body and the application properties pre-filled as
 * text, and the submission turned back into `RepairEdits`. What Slack cannot show faithfully
 * (binary bodies, control characters, more than a text input holds) is not offered for editing:
 * the dialog says why and names the command that can.
 */

export const REPAIR_CALLBACK_ID = "deadletter_repair";

/** Slack's plain_text_input holds at most 3,000 characters. */
export const DIALOG_TEXT_MAX = 3000;

/** block_id → action_id of the dialog's inputs, as Slack's `view.state.values` carries them. */
export const REPAIR_INPUTS = {
  body: { block: "body", action: "text" },
  properties: { block: "properties", action: "lines" },
} as const;

/** What the dialog carries from the click to the submission. */
export interface RepairMetadata {
  recordId: string;
  channel?: string;
  messageTs?: string;
  responseUrl?: string;
  /** The Repair… button was on the App Home tab. */
  origin?: "home";
}

type Editable = { text: string } | { reason: string };

/** UTF-8 text Slack shows as it is (no control, bidi or carriage-return characters), or undefined. */
function faithfulText(text: string): string | undefined {
  return cleanPlainText(text) === text ? text : undefined;
}

/** The body as the dialog shows it: pretty JSON, text, UTF-8 bytes as text; or why it cannot. */
export function editableBody(message: DeadLetter): Editable {
  const body = message.body;
  let text: string | undefined;
  switch (body.kind) {
    case "json":
      text = JSON.stringify(body.value, null, 2);
      break;
    case "text":
      text = body.text;
      break;
    case "empty":
      text = "";
      break;
    case "bytes": {
      const bytes = Buffer.from(body.base64, "base64");
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      } catch {
        return { reason: `it is binary (${bytes.length} bytes that are not UTF-8 text)` };
      }
    }
  }
  if (faithfulText(text) === undefined)
    return { reason: "it holds control characters (or carriage returns) a Slack text box would drop" };
  if (text.length > DIALOG_TEXT_MAX)
    return {
      reason: `it is ${text.length.toLocaleString("en-US")} characters; a Slack text box holds ${DIALOG_TEXT_MAX.toLocaleString("en-US")}`,
    };
  return { text };
}

const propertyText = (value: PropertyValue) => (value === null ? "null" : String(value));

/**
 * The properties the dialog lists, one `KEY=VALUE` a line; `hidden` are kept as they are: the
 * replay counter (Victoria's), and any whose key or value a line cannot hold.
 */
export function editableProperties(message: DeadLetter): {
  lines: Editable;
  shown: string[];
  hidden: string[];
} {
  const shown: string[] = [];
  const hidden: string[] = [];
  const lines: string[] = [];
  for (const [key, value] of Object.entries(message.applicationProperties)) {
    const text = propertyText(value);
    const fits =
      key !== REPLAY_COUNT_PROPERTY &&
      key !== "" &&
      key.trim() === key &&
      !key.includes("=") &&
      !`${key}${text}`.includes("\n") &&
      faithfulText(key) !== undefined &&
      faithfulText(text) !== undefined;
    if (fits) {
      shown.push(key);
      lines.push(`${key}=${text}`);
    } else hidden.push(key);
  }
  const all = lines.join("\n");
  if (all.length > DIALOG_TEXT_MAX) {
    return {
      lines: {
        reason: `they take ${all.length.toLocaleString("en-US")} characters; a Slack text box holds ${DIALOG_TEXT_MAX.toLocaleString("en-US")}`,
      },
      shown: [],
      hidden: Object.keys(message.applicationProperties),
    };
  }
  return { lines: { text: all }, shown, hidden };
}

const BODY_LABEL: Record<DeadLetter["body"]["kind"], string> = {
  json: "Body (JSON)",
  text: "Body (text)",
  bytes: "Body (binary, edited as UTF-8 text)",
  empty: "Body (empty)",
};

const BODY_HINT: Record<DeadLetter["body"]["kind"], string> = {
  json: "Must be valid JSON; it is sent as JSON.",
  text: "Sent as text.",
  bytes: "Sent back as the UTF-8 bytes of this text.",
  empty: "Sent as text (as JSON when the content type is JSON).",
};

function section(text: Mrkdwn): Record<string, unknown> {
  return { type: "section", text: { type: "mrkdwn", text: truncateMrkdwn(text, 3000).text } };
}

function textInput(
  ids: { block: string; action: string },
  label: string,
  initial: string,
  hint: string,
): Record<string, unknown> {
  return {
    type: "input",
    block_id: ids.block,
    // Optional so an empty body or no properties at all can be submitted.
    optional: true,
    label: { type: "plain_text", text: label },
    hint: { type: "plain_text", text: hint },
    element: {
      type: "plain_text_input",
      action_id: ids.action,
      multiline: true,
      max_length: DIALOG_TEXT_MAX,
      // Slack refuses an empty initial_value.
      ...(initial === "" ? {} : { initial_value: initial }),
    },
  };
}

/** The dialog for a parked dead letter: its body and properties, pre-filled, to edit and replay. */
export function repairDialog(record: VaultRecord, metadata: RepairMetadata): Record<string, unknown> {
  const m = record.message;
  const command = `victoria deadletter replay ${record.id}`;
  const body = editableBody(m);
  const properties = editableProperties(m);
  const blocks: Record<string, unknown>[] = [
    section(
      mrkdwn`*${escapeWithin(m.messageId, 200)}* on ${code(`${record.cluster}/${entityPath(record.entity)}`, 300)}\nEdit, then replay it. The vault keeps the original and records the edit with your name.`,
    ),
  ];
  if ("text" in body)
    blocks.push(textInput(REPAIR_INPUTS.body, BODY_LABEL[m.body.kind], body.text, BODY_HINT[m.body.kind]));
  else
    blocks.push(
      section(
        mrkdwn`*Body:* not editable here: ${body.reason}. It is sent as it is; to replace it, run ${code(`${command} --body '…'`, 300)}.`,
      ),
    );
  if ("text" in properties.lines)
    blocks.push(
      textInput(
        REPAIR_INPUTS.properties,
        "Application properties",
        properties.lines.text,
        "One KEY=VALUE per line; delete a line to remove that property. A number or boolean stays one when the new value reads as one; a new property is a string.",
      ),
    );
  else
    blocks.push(
      section(
        mrkdwn`*Application properties:* not editable here: ${properties.lines.reason}. Use ${code(`${command} --set KEY=VALUE --unset KEY`, 300)}.`,
      ),
    );
  if (properties.hidden.length > 0 && "text" in properties.lines) {
    const names = joinMrkdwn(
      properties.hidden.map((key) => code(key, 100)),
      ", ",
    );
    blocks.push({
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: truncateMrkdwn(mrkdwn`Kept as they are (not editable here): ${names}`, 2000).text,
        },
      ],
    });
  }
  return {
    type: "modal",
    callback_id: REPAIR_CALLBACK_ID,
    private_metadata: JSON.stringify(metadata),
    title: { type: "plain_text", text: "Repair dead letter" },
    // Nothing editable here (both too large, say): no submit, the notes name the command.
    ...("text" in body || "text" in properties.lines
      ? { submit: { type: "plain_text", text: "Replay edited" } }
      : {}),
    close: { type: "plain_text", text: "Cancel" },
    blocks,
  };
}

/** A dialog with nothing to submit: the dead letter is gone or someone already resolved it. */
export function repairUnavailableDialog(
  record: VaultRecord | undefined,
  recordId: string,
): Record<string, unknown> {
  const resolution = record?.resolution;
  const text = !record
    ? mrkdwn`There is no dead letter ${code(recordId, 200)} in the vault.`
    : resolution
      ? mrkdwn`This dead letter was already ${record.state} by ${mention(resolution.by)}${resolution.via === "command" ? mrkdwn` via command` : mrkdwn``} at ${escapeWithin(resolution.at, 64)}.`
      : mrkdwn`This dead letter is ${record.state}, not parked: there is nothing to repair.`;
  return {
    type: "modal",
    title: { type: "plain_text", text: "Repair dead letter" },
    close: { type: "plain_text", text: "Close" },
    blocks: [section(text)],
  };
}

/** Slack's `view.state.values` of the dialog, as far as the repair reads it. */
export type DialogValues = Record<string, Record<string, { value?: string | null | undefined }>>;

export type RepairSubmission =
  | { ok: true; edits: RepairEdits; changes: string[] }
  | { ok: false; errors: Record<string, string> };

/**
 * The dialog's input as edits of `message` (only what differs), checked as the replay will check
 * them; otherwise the errors to show, keyed by block id (Slack's `response_action: "errors"`).
 */
export function repairSubmission(message: DeadLetter, values: DialogValues): RepairSubmission {
  const body = editableBody(message);
  const properties = editableProperties(message);
  const bodyBlock = REPAIR_INPUTS.body.block;
  const propertiesBlock = REPAIR_INPUTS.properties.block;
  const fail = (block: string, text: string): RepairSubmission => ({
    ok: false,
    errors: { [block]: cleanPlainText(text, 2000) },
  });
  const edits: RepairEdits = {};
  if ("text" in body) {
    const typed = values[bodyBlock]?.[REPAIR_INPUTS.body.action]?.value ?? "";
    if (typed !== body.text) edits.body = typed;
  }
  if ("text" in properties.lines) {
    const typed = values[propertiesBlock]?.[REPAIR_INPUTS.properties.action]?.value ?? "";
    let given: Record<string, string>;
    try {
      given = parseAssignments(
        typed
          .split("\n")
          .map((line, index) => ({ text: line.replace(/\r$/, ""), what: `Line ${index + 1}` }))
          .filter(({ text }) => text.trim() !== ""),
      );
    } catch (error) {
      if (!(error instanceof RepairError)) throw error;
      return fail(propertiesBlock, error.message);
    }
    const set: Record<string, string> = {};
    const current = message.applicationProperties;
    for (const [key, text] of Object.entries(given)) {
      if (properties.hidden.includes(key) && key !== REPLAY_COUNT_PROPERTY)
        return fail(propertiesBlock, `${key} cannot be edited here; use the victoria command.`);
      // Only what differs, so the job and the audit name the real changes.
      if (!Object.hasOwn(current, key) || typedValue(current[key], text) !== current[key]) set[key] = text;
    }
    const unset = properties.shown.filter((key) => !Object.hasOwn(given, key));
    if (Object.keys(set).length > 0) edits.set = set;
    if (unset.length > 0) edits.unset = unset;
  }
  try {
    const { changes } = applyRepair(message, edits);
    if (changes.length === 0)
      return fail(
        "text" in body ? bodyBlock : propertiesBlock,
        "Nothing was changed. To send it as it is, close this and click Replay.",
      );
    return { ok: true, edits, changes };
  } catch (error) {
    if (!(error instanceof RepairError)) throw error;
    const block = error.field === "body" || !("text" in properties.lines) ? bodyBlock : propertiesBlock;
    return fail(block, error.message);
  }
}

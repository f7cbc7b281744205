import { domainToASCII } from "node:url";

/**
 * A practical email address check for addresses people type into Slack: `local@domain.tld`, no
 * quoted local parts, comments or IP literals (RFC 5321/5322 allow them; nobody routes dead letters
 * to them, and rejecting them keeps header and envelope injection off the table).
 */

const MAX_ADDRESS_LENGTH = 254; // RFC 5321 path limit (256) minus the angle brackets
const MAX_LOCAL_PART_LENGTH = 64;
const MAX_LABEL_LENGTH = 63;

/** RFC 5322 dot-atom of `atext`: printable ASCII without specials, dots only between atoms. */
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
/** One DNS label after IDNA conversion: letters, digits and inner hyphens. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
/** Whitespace (any Unicode space) and control characters, C0, DEL and C1. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const SPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f-\u009f]/u;
// biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/gu;

function isValidDomain(domain: string): boolean {
  // Internationalised domains are checked in their ASCII (punycode) form; "" means IDNA refused it.
  const ascii = /^[\x21-\x7e]+$/.test(domain) ? domain.toLowerCase() : domainToASCII(domain);
  if (ascii === "" || ascii.length > 253) return false;
  const labels = ascii.split(".");
  if (labels.length < 2) return false;
  if (!labels.every((label) => label.length <= MAX_LABEL_LENGTH && LABEL.test(label))) return false;
  // An all-numeric top-level label is an IP address in disguise (`1.2.3.4`), not a domain.
  return !/^[0-9]+$/.test(labels[labels.length - 1] as string);
}

/** True for a plausible `local@domain.tld` address; the text is checked as is (not trimmed). */
export function isValidEmailAddress(text: string): boolean {
  if (text.length === 0 || text.length > MAX_ADDRESS_LENGTH || SPACE_OR_CONTROL.test(text)) return false;
  const at = text.indexOf("@");
  if (at < 0 || at !== text.lastIndexOf("@")) return false;
  const local = text.slice(0, at);
  const domain = text.slice(at + 1);
  return local.length <= MAX_LOCAL_PART_LENGTH && LOCAL_PART.test(local) && isValidDomain(domain);
}

/** The text was not an email address; the message is meant to be shown to the person who typed it. */
export class InvalidEmailAddressError extends Error {
  override readonly name = "InvalidEmailAddressError";
  constructor(readonly input: string) {
    super(
      input.trim() === "" ? "No email address was given" : `'${displayable(input)}' is not an email address`,
    );
  }
}

/** The input as it may be echoed back: one line, no control characters, not endless. */
function displayable(input: string): string {
  const oneLine = input.trim().replace(CONTROL, " ");
  return oneLine.length > 80 ? `${oneLine.slice(0, 79)}…` : oneLine;
}

/**
 * The address, trimmed, with its domain lowercased (the local part is left alone: it is the
 * receiving server's to interpret). Throws InvalidEmailAddressError otherwise.
 */
export function parseEmailAddress(text: string): string {
  const trimmed = text.trim();
  if (!isValidEmailAddress(trimmed)) throw new InvalidEmailAddressError(text);
  const at = trimmed.indexOf("@");
  return `${trimmed.slice(0, at)}@${trimmed.slice(at + 1).toLowerCase()}`;
}

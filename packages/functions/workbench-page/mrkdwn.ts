// mrkdwn (Slack's markup) to DOM: code blocks, quotes, inline formatting, links, mentions, emoji.

import { el } from "./dom";
import { displayName } from "./page";

export const EMOJI: Record<string, string> = {
  white_check_mark: "✅",
  x: "❌",
  rotating_light: "🚨",
  warning: "⚠️",
  no_entry: "⛔",
  hourglass_flowing_sand: "⏳",
  hourglass: "⌛",
  raised_hand: "✋",
  leftwards_arrow_with_hook: "↩️",
  email: "📧",
  wastebasket: "🗑️",
  repeat: "🔁",
  lock: "🔒",
  scissors: "✂️",
};

const EMOJI_CODE = /:([a-z0-9_+'-]+):/g;
const CODE_BLOCK = /```([\s\S]*?)```/g;
/**
 * One inline token: `code`, <link|mention>, *bold*, _italic_, ~strike~ or :emoji:. The look-arounds
 * keep snake_case words and arithmetic like 2*3*4 from turning into formatting, as in Slack.
 */
const INLINE =
  /`([^`\n]+)`|<([^<>\n]+)>|(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])|(?<![\w_])_(?!\s)([^_\n]+?)_(?![\w_])|(?<![\w~])~(?!\s)([^~\n]+?)~(?![\w~])|:([a-z0-9_+'-]+):/g;

/** Slack escapes only these three in message text. */
const decodeEntities = (text: string): string =>
  text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");

export const emojify = (text: string): string =>
  text.replace(EMOJI_CODE, (whole, name: string) => EMOJI[name] ?? whole);

const textNode = (text: string): Text => document.createTextNode(decodeEntities(text));

function safeHref(raw: string): string | undefined {
  try {
    const url = new URL(raw);
    return ["http:", "https:", "mailto:"].includes(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

const mention = (text: string): HTMLElement => el("span", { class: "mention" }, text);

/** `<…>` in mrkdwn: a user, channel or broadcast mention, or a link with an optional label. */
function renderAngle(inner: string): Node {
  const bar = inner.indexOf("|");
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? undefined : decodeEntities(inner.slice(bar + 1));
  if (target.startsWith("@")) {
    const id = target.slice(1);
    const name = displayName(id);
    return mention(`@${name === id && label !== undefined ? label : name}`);
  }
  if (target.startsWith("#")) return mention(`#${label ?? target.slice(1)}`);
  // A date (`<!date^…|fallback>`) is shown as its fallback text, not as a mention.
  if (target.startsWith("!date^")) return document.createTextNode(label ?? target);
  if (target.startsWith("!")) return mention(label ?? `@${target.slice(1).split("^")[0] ?? ""}`);
  const url = decodeEntities(target);
  const href = safeHref(url);
  const text = label ?? url;
  return href === undefined
    ? document.createTextNode(text)
    : el("a", { href, target: "_blank", rel: "noopener noreferrer" }, text);
}

function renderInline(text: string): Node[] {
  const nodes: Node[] = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) nodes.push(textNode(text.slice(last, match.index)));
    nodes.push(inlineToken(match));
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(textNode(text.slice(last)));
  return nodes;
}

function inlineToken([whole, code, angle, bold, italic, strike, emoji]: RegExpExecArray): Node {
  if (code !== undefined) return el("code", {}, decodeEntities(code));
  if (angle !== undefined) return renderAngle(angle);
  if (bold !== undefined) return el("strong", {}, ...renderInline(bold));
  if (italic !== undefined) return el("em", {}, ...renderInline(italic));
  if (strike !== undefined) return el("s", {}, ...renderInline(strike));
  return document.createTextNode(EMOJI[emoji ?? ""] ?? whole);
}

/** Text outside code blocks: lines with inline formatting; runs of `>` lines become one quote. */
function appendProse(parent: HTMLElement, text: string): void {
  if (text === "") return;
  let quote: HTMLElement | undefined;
  text.split("\n").forEach((line, index) => {
    const marker = /^(?:>|&gt;) ?/.exec(line);
    if (marker !== null) {
      if (quote === undefined) {
        quote = el("blockquote");
        parent.append(quote);
      } else {
        quote.append(el("br"));
      }
      quote.append(...renderInline(line.slice(marker[0].length)));
      return;
    }
    // A quote is a block of its own, so the line after it needs no break.
    if (quote !== undefined) quote = undefined;
    else if (index > 0) parent.append(el("br"));
    parent.append(...renderInline(line));
  });
}

/** Code blocks are cut out first so nothing inside them is formatted. */
export function renderMrkdwn(source: string): HTMLElement {
  const root = el("div", { class: "mrkdwn" });
  let last = 0;
  // The newlines around a fence belong to the fence, not to the prose.
  const prose = (start: number, end: number) => {
    const text = source.slice(start, end).replace(/\n$/, "");
    appendProse(root, start > 0 ? text.replace(/^\n/, "") : text);
  };
  for (const match of source.matchAll(CODE_BLOCK)) {
    prose(last, match.index);
    root.append(el("pre", { class: "code-block" }, decodeEntities((match[1] ?? "").replace(/^\n/, ""))));
    last = match.index + match[0].length;
  }
  prose(last, source.length);
  return root;
}

import { describe, expect, it } from "vitest";
import {
  cleanPlainText,
  code,
  codeBlock,
  escapeSlackText,
  escapeWithin,
  joinMrkdwn,
  mention,
  mrkdwn,
  stripControlCharacters,
  truncateMrkdwn,
} from "./slack-text";

/** What arrives from outside and must not act in Slack. */
const HOSTILE = [
  "<!channel>",
  "<!here>",
  "<http://evil|click>",
  "a & b",
  "nul\u0000",
  "\u001b[31mred",
  "\u202eevil",
] as const;

describe("stripControlCharacters", () => {
  it.each([
    ["NUL", "a\u0000b", "ab"],
    ["an ANSI colour, sequence and all", "\u001b[31mred\u001b[0m", "red"],
    ["a lone ESC", "a\u001bb", "ab"],
    ["an OSC 8 terminal hyperlink", "\u001b]8;;http://evil\u001b\\click\u001b]8;;\u001b\\", "click"],
    ["RLO and the other bidi overrides", "\u202eabc\u202d\u2066x\u2069\u200f", "abcx"],
    ["C1 controls and DEL", "a\u0085\u009b\u007fb", "ab"],
    ["a carriage return", "a\r\nb", "a\nb"],
  ])("removes %s", (_, input, output) => {
    expect(stripControlCharacters(input)).toBe(output);
  });

  it("keeps tabs, newlines and ordinary Unicode", () => {
    expect(stripControlCharacters("a\tb\nc é 😀 中")).toBe("a\tb\nc é 😀 中");
  });
});

describe("escapeSlackText", () => {
  it.each([
    ["<!channel>", "&lt;!channel&gt;"],
    ["<!here>", "&lt;!here&gt;"],
    ["<http://evil|click>", "&lt;http://evil|click&gt;"],
    ["<@U0ADMIN>", "&lt;@U0ADMIN&gt;"],
    ["a & b", "a &amp; b"],
    ["nul\u0000", "nul"],
    ["\u001b[31mred", "red"],
    ["\u202eevil", "evil"],
  ])("escapes %j", (input, output) => {
    expect(escapeSlackText(input)).toBe(output);
  });

  it("escapes an entity that is already in the text as text, once", () => {
    expect(escapeSlackText("&amp;")).toBe("&amp;amp;");
    expect(escapeSlackText("&")).toBe("&amp;");
  });
});

describe("cleanPlainText", () => {
  it("removes controls but does not entity-escape: Slack shows plain_text literally", () => {
    expect(cleanPlainText("<!channel> a & b\u0000\u001b[31m\u202e")).toBe("<!channel> a & b");
  });

  it("cuts to max with an ellipsis, never splitting a surrogate pair", () => {
    expect(cleanPlainText("😀😀😀", 4)).toBe("😀…");
    expect(cleanPlainText("short", 10)).toBe("short");
    expect(cleanPlainText("abcdef", 4)).toBe("abc…");
  });
});

describe("the mrkdwn tag", () => {
  it.each(HOSTILE)("escapes the interpolated %j and nothing else", (hostile) => {
    const text = mrkdwn`*Reason:* ${hostile} <@U0ME>`.text;
    expect(text).toBe(`*Reason:* ${escapeSlackText(hostile)} <@U0ME>`);
    const inserted = text.slice("*Reason:* ".length, -" <@U0ME>".length);
    expect(inserted).not.toMatch(/[<>]/);
    expect(stripControlCharacters(inserted)).toBe(inserted);
  });

  it("escapes once, however deeply mrkdwn is nested", () => {
    const inner = mrkdwn`${"a & b"}`;
    const outer = mrkdwn`[${inner}] ${code("x & y")} ${joinMrkdwn([inner, inner], ", ")}`;
    expect(outer.text).toBe("[a &amp; b] `x &amp; y` a &amp; b, a &amp; b");
    expect(outer.text).not.toContain("&amp;amp;");
  });

  it("shows numbers as they are", () => {
    expect(mrkdwn`${3} of ${12}`.text).toBe("3 of 12");
  });
});

describe("escapeWithin", () => {
  it("cuts between entities and counts the ellipsis", () => {
    expect(escapeWithin("a&b", 10).text).toBe("a&amp;b");
    expect(escapeWithin("a&b", 6).text).toBe("a…");
    expect(escapeWithin("a&b", 7).text).toBe("a&amp;b");
    expect(escapeWithin("ab&", 6).text).toBe("ab…");
  });

  it("counts what is left after removing controls", () => {
    expect(escapeWithin("\u0000".repeat(100), 1).text).toBe("");
  });
});

describe("code", () => {
  it("keeps backticks and newlines from breaking the span, and escapes inside it", () => {
    expect(code("`rm -rf` <b>&amp;</b>\u0000\nnext").text).toBe(
      "`'rm -rf' &lt;b&gt;&amp;amp;&lt;/b&gt; next`",
    );
  });

  it("cuts the content to max", () => {
    expect(code("abcdef", 4).text).toBe("`abc…`");
  });
});

describe("codeBlock", () => {
  it("escapes inside the block (Slack decodes entities there too) and keeps ``` from closing it", () => {
    const { block } = codeBlock("<!channel> a & b\n```\n\u001b[31mred\u001b[0m\u0000\u202e\n\n");
    expect(block.text).toBe("```&lt;!channel&gt; a &amp; b\n`\u200b``\nred```");
  });

  it("shows a placeholder for an empty block, whose backticks Slack would show", () => {
    expect(codeBlock(" \n\u0000", { placeholder: "(no output)" }).block.text).toBe("```(no output)```");
  });

  it("fits the escaped content in max and says how much of the text it shows", () => {
    expect(codeBlock("y".repeat(10), { max: 4 })).toMatchObject({ shown: 4, total: 10 });
    const hostile = codeBlock("<".repeat(1000), { max: 2800 });
    expect(hostile.block.text).toHaveLength(2800 + 6);
    expect(hostile.shown).toBe(700);
    const fences = codeBlock("`".repeat(9), { max: 10 });
    // Eight backticks become "`\u200b```\u200b``": ten characters.
    expect(fences.block.text).toHaveLength(10 + 6);
    expect(fences.shown).toBe(8);
  });
});

describe("mention", () => {
  it("mentions a Slack member id and shows anything else as escaped text", () => {
    expect(mention("U0MEMBER").text).toBe("<@U0MEMBER>");
    expect(mention("W123").text).toBe("<@W123>");
    expect(mention("sre@example.com").text).toBe("sre@example.com");
    expect(mention("<!channel>").text).toBe("&lt;!channel&gt;");
    expect(mention("U0X> <!here").text).toBe("U0X&gt; &lt;!here");
  });
});

describe("truncateMrkdwn", () => {
  it("never cuts an entity or a mention in two", () => {
    const text = mrkdwn`ab ${"&"}`;
    expect(truncateMrkdwn(text, 6).text).toBe("ab …");
    expect(truncateMrkdwn(mrkdwn`by ${mention("U0MEMBER")} and more`, 10).text).toBe("by …");
    expect(truncateMrkdwn(text, 100)).toBe(text);
  });
});

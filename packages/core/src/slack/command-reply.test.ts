import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../ports";
import { INLINE_OUTPUT_LIMIT, noticeReply, resultReply } from "./command-reply";
import { code, mrkdwn } from "./slack-text";

const sectionText = (message: ChatMessage) =>
  (message.blocks?.[0] as { text: { text: string } } | undefined)?.text.text;

describe("resultReply", () => {
  it("escapes the output inside its code block, where Slack decodes entities too", () => {
    const reply = resultReply(["store", "get", "k"], {
      exitCode: 0,
      output: "<!channel> <!here> <http://evil|click> a & b\n",
    });
    expect(reply.text).toBe(
      ":white_check_mark: `victoria store get k`\n```&lt;!channel&gt; &lt;!here&gt; &lt;http://evil|click&gt; a &amp; b```",
    );
    expect(sectionText(reply)).toBe(reply.text);
  });

  it("removes control characters and terminal colours from the output", () => {
    const reply = resultReply(["x"], { exitCode: 1, output: "\u001b[31mred\u001b[0m nul\u0000 \u202eevil" });
    expect(reply.text).toBe(":x: `victoria x` failed (non-zero exit status)\n```red nul evil```");
  });

  it("escapes the command line in its code span once, and keeps backticks from ending it", () => {
    const reply = resultReply(["encrypt", "data", "a & b `x` <!here>"], { exitCode: 0, output: "ok" });
    expect(reply.text).toContain(":white_check_mark: `victoria encrypt data 'a &amp; b 'x' &lt;!here&gt;'`");
    expect(reply.text).not.toContain("&amp;amp;");
  });

  it("keeps ``` in the output from closing the block early", () => {
    expect(resultReply(["x"], { exitCode: 0, output: "a```b" }).text).toContain("```a`\u200b``b```");
  });

  it("says so when there is no output", () => {
    expect(resultReply(["x"], { exitCode: 0, output: "\n" }).text).toContain("```(no output)```");
  });

  it("fits escaped output within Slack's 3,000-character section, and says how much it shows", () => {
    const output = "<".repeat(5000);
    const reply = resultReply(["x"], { exitCode: 0, output });
    expect(reply.overflow).toBe(output);
    expect(sectionText(reply)?.length).toBeLessThanOrEqual(3000);
    const shown = Math.floor(INLINE_OUTPUT_LIMIT / 4);
    expect(reply.text).toContain(`showing the first ${shown.toLocaleString("en")} of 5,000 characters`);
  });

  it("marks the cut with a character every renderer shows, not an emoji code it may print as text", () => {
    const reply = resultReply(["x"], { exitCode: 0, output: "y".repeat(INLINE_OUTPUT_LIMIT + 1) });
    const note = (reply.blocks?.[1] as { elements: { type: string; text: string }[] } | undefined)
      ?.elements[0];
    expect(note).toEqual({
      type: "mrkdwn",
      text: `\u2702 Output truncated: showing the first ${INLINE_OUTPUT_LIMIT.toLocaleString("en")} of 2,801 characters.`,
    });
    expect(reply.text).toContain("\n\u2702 Output truncated");
    expect(reply.text).not.toMatch(/:[a-z_]+: Output truncated/);
  });

  it("inlines output that fits, whole", () => {
    const reply = resultReply(["x"], { exitCode: 0, output: "y".repeat(INLINE_OUTPUT_LIMIT) });
    expect(reply.overflow).toBeUndefined();
    expect(reply.blocks).toHaveLength(1);
  });
});

describe("noticeReply", () => {
  it.each([
    ["<!channel>", "&lt;!channel&gt;"],
    ["<!here>", "&lt;!here&gt;"],
    ["<http://evil|click>", "&lt;http://evil|click&gt;"],
    ["a & b", "a &amp; b"],
    ["nul\u0000", "nul"],
    ["\u001b[31mred", "red"],
    ["\u202eevil", "evil"],
  ])("treats a plain string as outside text: %j", (input, shown) => {
    const reply = noticeReply(`Sorry, ${input} is not a member`);
    expect(reply.text).toBe(`Sorry, ${shown} is not a member`);
    expect(sectionText(reply)).toBe(reply.text);
  });

  it("stays within Slack's 3,000-character section however long the escaped text grew", () => {
    const escaped = noticeReply("<".repeat(5000)).text;
    expect(escaped).toMatch(/^(&lt;)+…$/);
    expect(escaped.length).toBeLessThanOrEqual(3000);
    expect(noticeReply(mrkdwn`${"&".repeat(5000)}`).text).toMatch(/^(&amp;)+…$/);
  });

  it("takes mrkdwn as it is, so nothing is escaped twice", () => {
    const reply = noticeReply(mrkdwn`:warning: I could not run ${code("a & b")}: ${"x & y"}`);
    expect(reply.text).toBe(":warning: I could not run `a &amp; b`: x &amp; y");
    expect(reply.text).not.toContain("&amp;amp;");
  });
});

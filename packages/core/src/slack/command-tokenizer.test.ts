import { describe, expect, it } from "vitest";
import { stripLeadingMentions, TokenizeError, tokenize, unformatSlackText } from "./command-tokenizer";

describe("tokenize", () => {
  it.each([
    ["config view", ["config", "view"]],
    ["  config   view  ", ["config", "view"]],
    ["encrypt data 'two words'", ["encrypt", "data", "two words"]],
    ['encrypt data "say \\"hi\\""', ["encrypt", "data", 'say "hi"']],
    ["encrypt data it\\'s", ["encrypt", "data", "it's"]],
    ["a 'b'\"c\"d", ["a", "bcd"]],
    ["empty '' arg", ["empty", "", "arg"]],
    ["'$(rm -rf /)' ; ls", ["$(rm -rf /)", ";", "ls"]],
    ["\"single 'inside' double\"", ["single 'inside' double"]],
    ["tab\tand\nnewline", ["tab", "and", "newline"]],
    ["", []],
  ])("%j → %j", (line, words) => {
    expect(tokenize(line)).toEqual(words);
  });

  it.each([
    ["encrypt data 'oops", "unbalanced single quote (opened at character 14)"],
    ['say "hi', "unbalanced double quote (opened at character 5)"],
    ["trailing \\", "the command ends with a lone backslash"],
  ])("%j is refused with a helpful reason", (line, reason) => {
    expect(() => tokenize(line)).toThrow(new TokenizeError(reason));
  });
});

describe("Slack text", () => {
  it("strips leading bot mentions only", () => {
    expect(stripLeadingMentions("<@U0BOT> config view")).toBe("config view");
    expect(stripLeadingMentions(" <@U0BOT|victoria>  <@U0BOT> config")).toBe("config");
    expect(stripLeadingMentions("config <@U0BOT>")).toBe("config <@U0BOT>");
  });

  it("undoes Slack's escapes, links and smart quotes", () => {
    expect(unformatSlackText("a &amp;&amp; b &lt;x&gt;")).toBe("a && b <x>");
    expect(unformatSlackText("store s3 get <https://example.com/a?b=1|example.com/a?b=1>")).toBe(
      "store s3 get https://example.com/a?b=1",
    );
    expect(unformatSlackText("mail <mailto:sre@example.com|sre@example.com>")).toBe("mail sre@example.com");
    expect(unformatSlackText("encrypt data \u201Ctwo words\u201D")).toBe('encrypt data "two words"');
  });
});

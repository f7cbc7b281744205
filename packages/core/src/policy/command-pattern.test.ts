import { describe, expect, it } from "vitest";
import {
  commandLabel,
  commandPatternProblem,
  commandWords,
  matchesCommand,
  toCommandPattern,
} from "./command-pattern";

const matches = (pattern: string, argv: string[]) =>
  matchesCommand(toCommandPattern(pattern), commandWords(argv));

describe("matchesCommand", () => {
  it("matches on leading words, whatever follows", () => {
    expect(matches("deadletter delete", ["deadletter", "delete", "abc"])).toBe(true);
    expect(matches("deadletter delete", ["deadletter", "delete"])).toBe(true);
    expect(matches("deadletter", ["deadletter", "ls"])).toBe(true);
    expect(matches("deadletter delete", ["deadletter", "ls"])).toBe(false);
    expect(matches("deadletter delete", ["deadletter"])).toBe(false);
    // Whole words only, and case matters as it does to Victoria.
    expect(matches("dead", ["deadletter", "ls"])).toBe(false);
    expect(matches("config view", ["Config", "view"])).toBe(false);
  });

  it("`*` stands for exactly one word", () => {
    expect(matches("store * put", ["store", "s3", "put", "KEY"])).toBe(true);
    expect(matches("store * put", ["store", "azure", "put"])).toBe(true);
    expect(matches("store * put", ["store", "s3", "get", "KEY"])).toBe(false);
    expect(matches("store * put", ["store", "put"])).toBe(false);
    expect(matches("store * put", ["store", "s3", "x", "put"])).toBe(false);
  });

  it("a lone `*` matches everything, even no command at all", () => {
    for (const argv of [[], ["config", "view"], ["--help"], ["anything", "at", "all"]]) {
      expect(matches("*", argv)).toBe(true);
    }
    expect(matches("* view", [])).toBe(false);
  });

  it("help forms are matched as typed: `help`, `--help` (and `-h`, which is the same)", () => {
    expect(matches("help", ["help"])).toBe(true);
    expect(matches("help", ["help", "deadletter"])).toBe(true);
    expect(matches("--help", ["--help"])).toBe(true);
    expect(matches("--help", ["-h"])).toBe(true);
    expect(matches("--help", ["config", "--help"])).toBe(false);
    // A command's own --help is still that command: it is governed by the command's rule.
    expect(matches("deadletter delete", ["deadletter", "delete", "--help"])).toBe(true);
  });

  it("options cannot hide a command from its rule", () => {
    expect(matches("deadletter delete", ["--", "deadletter", "delete", "abc"])).toBe(true);
    expect(matches("deadletter delete", ["deadletter", "--", "delete", "abc"])).toBe(true);
    expect(matches("deadletter delete", ["-c", "other.yaml", "deadletter", "delete"])).toBe(true);
    expect(matches("deadletter delete", ["--config-file", "x", "deadletter", "delete"])).toBe(true);
    expect(matches("deadletter delete", ["--config-file=x", "deadletter", "delete"])).toBe(true);
    expect(matches("store * put", ["store", "s3", "put", "--data", "x", "KEY"])).toBe(true);
  });
});

describe("commandWords", () => {
  it("drops options and `--`, keeps help and version, keeps everything after `--` as typed", () => {
    expect(commandWords(["-h"])).toEqual(["--help"]);
    expect(commandWords(["--version"])).toEqual(["--version"]);
    expect(commandWords(["-c", "f.yaml", "config", "view"])).toEqual(["config", "view"]);
    expect(commandWords(["store", "s3", "put", "--data=x", "K"])).toEqual(["store", "s3", "put", "K"]);
    expect(commandWords(["store", "s3", "get", "--", "-odd-key"])).toEqual([
      "store",
      "s3",
      "get",
      "-odd-key",
    ]);
    expect(commandWords(["encrypt", "data", "-"])).toEqual(["encrypt", "data", "-"]);
    // `-c` after the command is the command's business, and its value stays an argument.
    expect(commandWords(["store", "-c", "x"])).toEqual(["store", "x"]);
  });
});

describe("commandPatternProblem", () => {
  it("accepts words and whole-word stars; refuses empty text and partial stars", () => {
    expect(commandPatternProblem("store * put")).toBeUndefined();
    expect(commandPatternProblem("*")).toBeUndefined();
    expect(commandPatternProblem("  ")).toMatch(/expected the leading words/);
    expect(commandPatternProblem("store*")).toBe('"store*": * stands for one whole word, e.g. "store * put"');
  });
});

describe("commandLabel", () => {
  const patterns = ["encrypt rotate", "store * put", "config view"].map(toCommandPattern);
  const label = (argv: string[], matched?: string) =>
    commandLabel(commandWords(argv), patterns, matched === undefined ? undefined : toCommandPattern(matched));

  it("names as many words as the matching pattern has", () => {
    expect(label(["deadletter", "delete", "abc"], "deadletter delete")).toBe("deadletter delete");
    expect(label(["store", "s3", "put", "K"], "store * put")).toBe("store s3 put");
  });

  it("otherwise two words, or one past what the policy tells apart, never the data that follows", () => {
    expect(label(["encrypt", "data", "my-secret"])).toBe("encrypt data");
    expect(label(["encrypt", "data", "my-secret"], "*")).toBe("encrypt data");
    expect(label(["store", "s3", "get", "KEY"])).toBe("store s3 get");
    expect(label(["whatever"])).toBe("whatever");
    expect(label([])).toBe("");
  });
});

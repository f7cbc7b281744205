import { describe, expect, it } from "vitest";
import { didYouMean, editDistance, similarWords } from "./did-you-mean";

describe("editDistance", () => {
  it.each([
    ["", "", 0],
    ["", "abc", 3],
    ["config", "config", 0],
    ["confg", "config", 1], // a deletion
    ["configg", "config", 1], // an insertion
    ["shiw", "show", 1], // a substitution
    ["veiw", "view", 1], // adjacent characters swapped: one edit, not two
    ["kitten", "sitting", 3],
    ["ca", "abc", 3], // optimal string alignment: a swapped pair is not edited again
  ])("%j → %j is %i", (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe("similarWords", () => {
  const plugins = ["config", "encrypt", "store", "deadletter", "help"];

  it("finds a typo within the distance its length allows", () => {
    expect(similarWords("confg", plugins)).toEqual(["config"]);
    expect(similarWords("dedletetr", plugins)).toEqual(["deadletter"]); // two edits in a long word
    expect(similarWords("hlep", plugins)).toEqual(["help"]);
  });

  it("allows one edit up to five characters and none up to two", () => {
    expect(similarWords("cnfg", plugins)).toEqual([]); // two edits in a short word
    expect(similarWords("lz", ["ls", "get"])).toEqual([]);
    expect(similarWords("shw", ["ls", "show"])).toEqual(["show"]);
  });

  it("offers the words a prefix begins, whatever their distance", () => {
    expect(similarWords("dead", plugins)).toEqual(["deadletter"]);
    expect(similarWords("l", ["ls", "get"])).toEqual(["ls"]);
    expect(similarWords("--stat", ["--state", "--cluster", "--help"])).toEqual(["--state"]);
  });

  it("ignores case, and dashes when judging a word's length", () => {
    expect(similarWords("CONFIG", plugins)).toEqual(["config"]);
    expect(similarWords("--jsn", ["--json", "--help"])).toEqual(["--json"]);
    expect(similarWords("-x", ["--config-file", "--help", "--version"])).toEqual([]);
  });

  it("lists at most three, closest first, ties in the candidates' order", () => {
    expect(similarWords("Show", ["shoe", "show"])).toEqual(["show", "shoe"]);
    expect(similarWords("pet", ["pat", "pot", "put", "pit"])).toEqual(["pat", "pot", "put"]);
  });

  it("finds nothing when nothing is close", () => {
    expect(similarWords("nope", plugins)).toEqual([]);
    expect(similarWords("--bogus", ["--state", "--note", "--force", "--help"])).toEqual([]);
    expect(similarWords("x", [])).toEqual([]);
  });
});

describe("didYouMean", () => {
  it("words one, several or no suggestions as the end of a message", () => {
    expect(didYouMean("confg", ["config", "encrypt"])).toBe(" Did you mean 'config'?");
    expect(didYouMean("sow", ["show", "slow", "ls"])).toBe(" Did you mean one of 'show', 'slow'?");
    expect(didYouMean("nope", ["config", "encrypt"])).toBe("");
  });
});

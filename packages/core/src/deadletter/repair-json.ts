/**
 * Where text stops being JSON, and why, in words a person can act on. JSON.parse's own messages
 * vary between Node versions and some give no position at all (`Unexpected token '}', "…" is not
 * valid JSON`, which also repeats the input); this scanner follows RFC 8259 and stops at the first
 * problem. Only called after JSON.parse failed, so it never decides validity on its own.
 */
export interface JsonProblem {
  /** 0-based character offset. */
  position: number;
  /** 1-based. */
  line: number;
  column: number;
  problem: string;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS = ["true", "false", "null"] as const;

class Stop extends Error {
  constructor(
    readonly at: number,
    readonly problem: string,
  ) {
    super(problem);
  }
}

export function findJsonProblem(text: string): JsonProblem | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i] as string)) i += 1;
  };
  const describe = () => {
    const char = text.codePointAt(i);
    if (char === undefined) return "the end of the text";
    // A control or invisible character is named, not printed.
    return char > 0x20 && char < 0x7f
      ? `'${String.fromCodePoint(char)}'`
      : `U+${char.toString(16).toUpperCase().padStart(4, "0")}`;
  };
  const expect = (what: string): never => {
    throw new Stop(i, `expected ${what}, found ${describe()}`);
  };

  function string(): void {
    i += 1; // the opening quote
    while (i < text.length) {
      const char = text.charCodeAt(i);
      if (char === 0x22) {
        i += 1;
        return;
      }
      if (char < 0x20) throw new Stop(i, "a line break or control character inside a string");
      if (char === 0x5c) {
        const next = text[i + 1];
        if (next === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)))
            throw new Stop(i, "a \\u escape needs four hex digits");
          i += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) i += 2;
        else throw new Stop(i, "an unknown escape in a string");
      } else i += 1;
    }
    throw new Stop(i, "a string that never ends (missing '\"')");
  }

  function value(): void {
    ws();
    const char = text[i];
    if (char === "{") {
      i += 1;
      ws();
      if (text[i] === "}") {
        i += 1;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') expect("a property name in double quotes");
        string();
        ws();
        if (text[i] !== ":") expect("':' after the property name");
        i += 1;
        value();
        ws();
        if (text[i] === ",") {
          i += 1;
          continue;
        }
        if (text[i] === "}") {
          i += 1;
          return;
        }
        expect("',' or '}'");
      }
    }
    if (char === "[") {
      i += 1;
      ws();
      if (text[i] === "]") {
        i += 1;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ",") {
          i += 1;
          continue;
        }
        if (text[i] === "]") {
          i += 1;
          return;
        }
        expect("',' or ']'");
      }
    }
    if (char === '"') {
      string();
      return;
    }
    for (const literal of LITERALS) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    NUMBER.lastIndex = i;
    if (NUMBER.test(text)) {
      i = NUMBER.lastIndex;
      return;
    }
    expect("a value (an object, array, string, number, true, false or null)");
  }

  try {
    value();
    ws();
    if (i < text.length) throw new Stop(i, `unexpected ${describe()} after the JSON value`);
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    const before = text.slice(0, error.at);
    const line = before.split("\n").length;
    const column = error.at - before.lastIndexOf("\n");
    return { position: error.at, line, column, problem: error.problem };
  }
}

import type { AmqpMessage } from "./amqp-message";

/**
 * The SQL filter language of subscription rules (a SQL-92 subset), as far as the stand-in needs
 * it: `AND`/`OR`/`NOT`, parentheses, `= <> != < <= > >=`, `IS [NOT] NULL`, `[NOT] IN (…)`,
 * `[NOT] LIKE '…' [ESCAPE '…']`, `EXISTS(prop)`, `+ - * / %`, numbers, `'strings'`, TRUE/FALSE/NULL,
 * `@parameters`, properties bare, `"quoted"` or `[bracketed]`, with an optional `user.` or `sys.`
 * scope (`sys.Label`, `sys.CorrelationId`, …). Functions (`newid()`) are not implemented.
 *
 * Evaluation is three-valued as in SQL: a missing user property is unknown, a comparison with
 * unknown is unknown, and a rule matches only when its filter is TRUE — so `NOT (a = 'x')` does not
 * match a message without `a`. A syntax error, an unknown `sys.` property or a missing parameter
 * is refused when the rule is created, as the service does (400).
 */
export class SqlFilterError extends Error {}

type Value = string | number | boolean | null;
/** `undefined` is SQL's unknown. */
type Tri = boolean | undefined;

type Node =
  | { kind: "literal"; value: Value }
  | { kind: "property"; scope: "user" | "sys"; name: string }
  | { kind: "parameter"; name: string }
  | { kind: "negate"; operand: Node }
  | { kind: "arithmetic"; op: "+" | "-" | "*" | "/" | "%"; left: Node; right: Node }
  | { kind: "compare"; op: "=" | "<>" | "<" | "<=" | ">" | ">="; left: Node; right: Node }
  | { kind: "isNull"; property: Node; negated: boolean }
  | { kind: "in"; operand: Node; list: Node[]; negated: boolean }
  | { kind: "like"; operand: Node; pattern: RegExp; negated: boolean }
  | { kind: "exists"; property: Node }
  | { kind: "and" | "or"; left: Node; right: Node }
  | { kind: "not"; operand: Node };

const CONDITIONS = new Set(["compare", "isNull", "in", "like", "exists", "and", "or", "not"]);

/** System properties a filter may name (`sys.X`), and where the AMQP message keeps each. */
const SYSTEM_PROPERTIES: Record<string, (message: AmqpMessage) => unknown> = {
  messageid: (m) => m.message_id,
  correlationid: (m) => m.correlation_id,
  to: (m) => m.to,
  replyto: (m) => m.reply_to,
  label: (m) => m.subject,
  subject: (m) => m.subject,
  sessionid: (m) => m.group_id,
  replytosessionid: (m) => m.reply_to_group_id,
  contenttype: (m) => m.content_type,
  timetolive: (m) => m.ttl,
  deliverycount: (m) => m.delivery_count,
};

type Token =
  | { type: "word"; text: string; at: number }
  | { type: "name"; text: string; at: number }
  | { type: "string"; text: string; at: number }
  | { type: "number"; value: number; at: number }
  | { type: "parameter"; text: string; at: number }
  | { type: "op"; text: string; at: number }
  | { type: "end"; at: number };

function fail(expression: string, at: number, problem: string): never {
  throw new SqlFilterError(
    `The SQL filter expression '${expression}' is invalid: ${problem} at position ${at + 1}.`,
  );
}

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const quoted = (close: string, type: "name" | "string"): void => {
    const at = i;
    let text = "";
    i += 1;
    for (;;) {
      const char = expression[i];
      if (char === undefined) fail(expression, at, `unterminated ${type === "string" ? "string" : "name"}`);
      if (char === close) {
        // A doubled quote stands for one ('it''s'); a bracket name closes at the first `]`.
        if (close !== "]" && expression[i + 1] === close) {
          text += close;
          i += 2;
          continue;
        }
        i += 1;
        break;
      }
      text += char;
      i += 1;
    }
    if (type === "name" && text === "") fail(expression, at, "an empty name");
    tokens.push({ type, text, at });
  };
  while (i < expression.length) {
    const char = expression[i] as string;
    if (/\s/.test(char)) {
      i += 1;
    } else if (char === "'") {
      quoted("'", "string");
    } else if (char === '"') {
      quoted('"', "name");
    } else if (char === "[") {
      quoted("]", "name");
    } else if (/[0-9]/.test(char) || (char === "." && /[0-9]/.test(expression[i + 1] ?? ""))) {
      const match = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(expression.slice(i)) as RegExpExecArray;
      tokens.push({ type: "number", value: Number(match[0]), at: i });
      i += match[0].length;
    } else if (/[A-Za-z_]/.test(char)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(expression.slice(i)) as RegExpExecArray;
      tokens.push({ type: "word", text: match[0], at: i });
      i += match[0].length;
    } else if (char === "@") {
      const match = /^@[A-Za-z_][A-Za-z0-9_]*/.exec(expression.slice(i));
      if (!match) fail(expression, i, "a parameter needs a name after '@'");
      tokens.push({ type: "parameter", text: match[0], at: i });
      i += match[0].length;
    } else {
      const two = expression.slice(i, i + 2);
      if (["<>", "!=", "<=", ">="].includes(two)) {
        tokens.push({ type: "op", text: two === "!=" ? "<>" : two, at: i });
        i += 2;
      } else if ("=<>()+-*/%,.".includes(char)) {
        tokens.push({ type: "op", text: char, at: i });
        i += 1;
      } else {
        fail(expression, i, `unexpected character '${char}'`);
      }
    }
  }
  tokens.push({ type: "end", at: expression.length });
  return tokens;
}

const KEYWORDS = new Set([
  "and",
  "or",
  "not",
  "is",
  "null",
  "in",
  "like",
  "escape",
  "exists",
  "true",
  "false",
]);

class Parser {
  private position = 0;
  constructor(
    private readonly expression: string,
    private readonly tokens: Token[],
    private readonly parameters: ReadonlySet<string>,
  ) {}

  private peek(): Token {
    return this.tokens[this.position] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.type !== "end") this.position += 1;
    return token;
  }

  private isWord(word: string, token = this.peek()): boolean {
    return token.type === "word" && token.text.toLowerCase() === word;
  }

  private isOp(op: string, token = this.peek()): boolean {
    return token.type === "op" && token.text === op;
  }

  private fail(problem: string, token = this.peek()): never {
    fail(this.expression, token.at, problem);
  }

  private describe(token: Token): string {
    switch (token.type) {
      case "end":
        return "the end of the expression";
      case "number":
        return `'${token.value}'`;
      default:
        return `'${token.text}'`;
    }
  }

  private expectOp(op: string): void {
    if (!this.isOp(op)) this.fail(`expected '${op}' but found ${this.describe(this.peek())}`);
    this.next();
  }

  parse(): Node {
    if (this.peek().type === "end") this.fail("the expression is empty");
    const node = this.or();
    if (this.peek().type !== "end") this.fail(`unexpected ${this.describe(this.peek())}`);
    return this.condition(node, this.tokens[0] as Token);
  }

  /** A node where a condition is needed: comparisons and logic, or TRUE/FALSE. */
  private condition(node: Node, at: Token): Node {
    if (CONDITIONS.has(node.kind)) return node;
    if (node.kind === "literal" && typeof node.value === "boolean") return node;
    this.fail("expected a condition (a comparison, IS NULL, IN, LIKE or EXISTS)", at);
  }

  private value(node: Node, at: Token): Node {
    if (CONDITIONS.has(node.kind)) this.fail("a condition cannot be used as a value", at);
    return node;
  }

  private or(): Node {
    const start = this.peek();
    let left = this.and();
    while (this.isWord("or")) {
      const at = this.next();
      const right = this.and();
      left = { kind: "or", left: this.condition(left, start), right: this.condition(right, at) };
    }
    return left;
  }

  private and(): Node {
    const start = this.peek();
    let left = this.not();
    while (this.isWord("and")) {
      const at = this.next();
      const right = this.not();
      left = { kind: "and", left: this.condition(left, start), right: this.condition(right, at) };
    }
    return left;
  }

  private not(): Node {
    if (this.isWord("not")) {
      const at = this.next();
      return { kind: "not", operand: this.condition(this.not(), at) };
    }
    return this.predicate();
  }

  private predicate(): Node {
    const start = this.peek();
    const left = this.additive();
    const token = this.peek();
    if (token.type === "op" && ["=", "<>", "<", "<=", ">", ">="].includes(token.text)) {
      this.next();
      const rightStart = this.peek();
      const right = this.additive();
      return {
        kind: "compare",
        op: token.text as "=",
        left: this.value(left, start),
        right: this.value(right, rightStart),
      };
    }
    if (this.isWord("is")) {
      this.next();
      const negated = this.isWord("not");
      if (negated) this.next();
      if (!this.isWord("null")) this.fail(`expected NULL after IS but found ${this.describe(this.peek())}`);
      this.next();
      if (left.kind !== "property") this.fail("IS NULL needs a property on its left", start);
      return { kind: "isNull", property: left, negated };
    }
    let negated = false;
    if (
      this.isWord("not") &&
      (this.isWord("in", this.tokens[this.position + 1]) ||
        this.isWord("like", this.tokens[this.position + 1]))
    ) {
      this.next();
      negated = true;
    }
    if (this.isWord("in")) {
      this.next();
      this.expectOp("(");
      const list: Node[] = [];
      do {
        const at = this.peek();
        list.push(this.value(this.additive(), at));
      } while (this.isOp(",") && this.next());
      this.expectOp(")");
      return { kind: "in", operand: this.value(left, start), list, negated };
    }
    if (this.isWord("like")) {
      this.next();
      const pattern = this.next();
      if (pattern.type !== "string") this.fail("LIKE needs a 'pattern' string", pattern);
      let escapeChar: string | undefined;
      if (this.isWord("escape")) {
        this.next();
        const escapeToken = this.next();
        if (escapeToken.type !== "string" || escapeToken.text.length !== 1)
          this.fail("ESCAPE needs a one-character string", escapeToken);
        escapeChar = escapeToken.text;
      }
      return {
        kind: "like",
        operand: this.value(left, start),
        pattern: likePattern(pattern.text, escapeChar),
        negated,
      };
    }
    if (negated) this.fail("expected IN or LIKE after NOT");
    return left;
  }

  private additive(): Node {
    let left = this.multiplicative();
    while (this.isOp("+") || this.isOp("-")) {
      const op = this.next() as { text: "+" | "-" } & Token;
      const at = this.peek();
      left = {
        kind: "arithmetic",
        op: op.text,
        left: this.value(left, op),
        right: this.value(this.multiplicative(), at),
      };
    }
    return left;
  }

  private multiplicative(): Node {
    let left = this.unary();
    while (this.isOp("*") || this.isOp("/") || this.isOp("%")) {
      const op = this.next() as { text: "*" | "/" | "%" } & Token;
      const at = this.peek();
      left = {
        kind: "arithmetic",
        op: op.text,
        left: this.value(left, op),
        right: this.value(this.unary(), at),
      };
    }
    return left;
  }

  private unary(): Node {
    if (this.isOp("-") || this.isOp("+")) {
      const op = this.next();
      const at = this.peek();
      const operand = this.value(this.unary(), at);
      return this.isOp("-", op) ? { kind: "negate", operand } : operand;
    }
    return this.primary();
  }

  private primary(): Node {
    const token = this.next();
    switch (token.type) {
      case "number":
        return { kind: "literal", value: token.value };
      case "string":
        return { kind: "literal", value: token.text };
      case "parameter":
        if (!this.parameters.has(token.text.toLowerCase()))
          this.fail(`the parameter '${token.text}' is not defined`, token);
        return { kind: "parameter", name: token.text.toLowerCase() };
      case "name":
        return this.property(token);
      case "op":
        if (token.text === "(") {
          const inner = this.or();
          this.expectOp(")");
          return inner;
        }
        return this.fail(`unexpected '${token.text}'`, token);
      case "end":
        return this.fail("the expression ends too early", token);
      case "word": {
        const word = token.text.toLowerCase();
        if (word === "true" || word === "false") return { kind: "literal", value: word === "true" };
        if (word === "null") return { kind: "literal", value: null };
        if (word === "exists") {
          this.expectOp("(");
          const at = this.peek();
          const property = this.primary();
          if (property.kind !== "property") this.fail("EXISTS needs a property", at);
          this.expectOp(")");
          return { kind: "exists", property };
        }
        if (KEYWORDS.has(word)) return this.fail(`unexpected keyword '${token.text}'`, token);
        if (this.isOp("(")) return this.fail(`the function '${token.text}' is not supported`, token);
        return this.property(token);
      }
    }
  }

  /** `name`, `"name"`, `[name]`, or any of them after `user.` / `sys.`. */
  private property(token: Extract<Token, { type: "word" | "name" }>): Node {
    const scope = token.type === "word" ? token.text.toLowerCase() : undefined;
    if ((scope === "user" || scope === "sys") && this.isOp(".")) {
      this.next();
      const name = this.next();
      if (name.type !== "word" && name.type !== "name")
        this.fail(`expected a property name after '${token.text}.'`, name);
      if (scope === "sys") {
        const key = name.text.toLowerCase();
        if (!(key in SYSTEM_PROPERTIES)) this.fail(`'sys.${name.text}' is not a system property`, name);
        return { kind: "property", scope: "sys", name: key };
      }
      return { kind: "property", scope: "user", name: name.text };
    }
    return { kind: "property", scope: "user", name: token.text };
  }
}

/** LIKE's `%` (any run) and `_` (one character) as an anchored regular expression. */
function likePattern(pattern: string, escapeChar: string | undefined): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern[i] as string;
    if (escapeChar !== undefined && char === escapeChar && i + 1 < pattern.length) {
      i += 1;
      source += (pattern[i] as string).replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
    } else if (char === "%") source += "[\\s\\S]*";
    else if (char === "_") source += "[\\s\\S]";
    else source += char.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

export interface SqlFilter {
  readonly expression: string;
  /** TRUE, FALSE or unknown for one message. */
  evaluate(message: AmqpMessage): Tri;
  matches(message: AmqpMessage): boolean;
}

/** Parses (and so checks) a filter once; `parameters` are the `@name` values it may use. */
export function compileSqlFilter(
  expression: string,
  parameters: Readonly<Record<string, Value>> = {},
): SqlFilter {
  const byName = new Map(Object.entries(parameters).map(([name, value]) => [name.toLowerCase(), value]));
  const root = new Parser(expression, tokenize(expression), new Set(byName.keys())).parse();
  const evaluate = (message: AmqpMessage): Tri => {
    const result = evaluateNode(root, message, byName);
    return result === null ? undefined : (result as Tri);
  };
  return { expression, evaluate, matches: (message) => evaluate(message) === true };
}

/** A property value as filters see it: strings, numbers and booleans; anything else as text. */
function filterValue(value: unknown): Value | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    return value;
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Date) return value.getTime();
  if (Buffer.isBuffer(value)) return value.toString("hex");
  return String(value);
}

function propertyOf(node: Extract<Node, { kind: "property" }>, message: AmqpMessage): Value | undefined {
  if (node.scope === "sys") return filterValue(SYSTEM_PROPERTIES[node.name]?.(message));
  const properties = message.application_properties ?? {};
  return Object.hasOwn(properties, node.name) ? filterValue(properties[node.name]) : undefined;
}

function compare(op: Extract<Node, { kind: "compare" }>["op"], left: Value, right: Value): Tri {
  if (left === null || right === null) return undefined;
  // Different types do not compare (a number with a string is unknown, not an error here).
  if (typeof left !== typeof right) return undefined;
  switch (op) {
    case "=":
      return left === right;
    case "<>":
      return left !== right;
    case "<":
      return left < right;
    case "<=":
      return left <= right;
    case ">":
      return left > right;
    case ">=":
      return left >= right;
  }
}

/** Values, or for conditions TRUE/FALSE; `null` and `undefined` both stand for unknown. */
function evaluateNode(node: Node, message: AmqpMessage, parameters: Map<string, Value>): Value | undefined {
  const value = (child: Node) => evaluateNode(child, message, parameters) ?? null;
  const truth = (child: Node): Tri => {
    const result = evaluateNode(child, message, parameters);
    return typeof result === "boolean" ? result : undefined;
  };
  switch (node.kind) {
    case "literal":
      return node.value;
    case "parameter":
      return parameters.get(node.name) ?? null;
    case "property":
      return propertyOf(node, message);
    case "negate": {
      const operand = value(node.operand);
      return typeof operand === "number" ? -operand : null;
    }
    case "arithmetic": {
      const left = value(node.left);
      const right = value(node.right);
      if (node.op === "+" && typeof left === "string" && typeof right === "string") return left + right;
      if (typeof left !== "number" || typeof right !== "number") return null;
      switch (node.op) {
        case "+":
          return left + right;
        case "-":
          return left - right;
        case "*":
          return left * right;
        case "/":
          return right === 0 ? null : left / right;
        case "%":
          return right === 0 ? null : left % right;
      }
      return null;
    }
    case "compare":
      return compare(node.op, value(node.left), value(node.right)) ?? null;
    case "isNull": {
      const found = value(node.property);
      return node.negated ? found !== null : found === null;
    }
    case "exists":
      return propertyOf(node.property as Extract<Node, { kind: "property" }>, message) !== undefined;
    case "in": {
      const operand = value(node.operand);
      if (operand === null) return null;
      const results = node.list.map((item) => compare("=", operand, value(item)));
      const found = results.includes(true) ? true : results.includes(undefined) ? undefined : false;
      if (found === undefined) return null;
      return node.negated ? !found : found;
    }
    case "like": {
      const operand = value(node.operand);
      if (typeof operand !== "string") return null;
      const found = node.pattern.test(operand);
      return node.negated ? !found : found;
    }
    case "not": {
      const operand = truth(node.operand);
      return operand === undefined ? null : !operand;
    }
    case "and": {
      const left = truth(node.left);
      const right = truth(node.right);
      if (left === false || right === false) return false;
      return left === true && right === true ? true : null;
    }
    case "or": {
      const left = truth(node.left);
      const right = truth(node.right);
      if (left === true || right === true) return true;
      return left === false && right === false ? false : null;
    }
  }
}

import { describe, expect, test } from "vitest";
import type { AmqpMessage } from "./amqp-message";
import { compileSqlFilter, SqlFilterError } from "./sql-filter";

const message = (properties: Record<string, unknown>, fields: Partial<AmqpMessage> = {}): AmqpMessage => ({
  application_properties: properties,
  ...fields,
});

const matches = (expression: string, m: AmqpMessage, parameters = {}) =>
  compileSqlFilter(expression, parameters).matches(m);

describe("SQL filters", () => {
  test("true and false filters", () => {
    expect(matches("1=1", message({}))).toBe(true);
    expect(matches("1=0", message({}))).toBe(false);
    expect(matches("TRUE", message({}))).toBe(true);
  });

  test("comparisons on user properties, quoted or bare", () => {
    const m = message({ color: "red", size: 3, "x-victoria-replay-to": "audit" });
    expect(matches("color = 'red'", m)).toBe(true);
    expect(matches("color <> 'red'", m)).toBe(false);
    expect(matches("color != 'blue'", m)).toBe(true);
    expect(matches("size > 2 AND size <= 3", m)).toBe(true);
    expect(matches("size + 1 = 4", m)).toBe(true);
    expect(matches(`"x-victoria-replay-to" = 'audit'`, m)).toBe(true);
    expect(matches("[x-victoria-replay-to] = 'billing'", m)).toBe(false);
    expect(matches("user.color = 'red'", m)).toBe(true);
  });

  test("a missing property is unknown: neither a comparison nor its negation matches", () => {
    const m = message({});
    expect(matches("color = 'red'", m)).toBe(false);
    expect(matches("NOT (color = 'red')", m)).toBe(false);
    expect(matches("color <> 'red'", m)).toBe(false);
    expect(matches("color = 'red' OR 1=1", m)).toBe(true);
    expect(matches("color IS NULL", m)).toBe(true);
    expect(matches("color IS NOT NULL", m)).toBe(false);
    expect(matches("EXISTS(color)", m)).toBe(false);
  });

  test("the guard the product installs: (original) AND replay property IS NULL", () => {
    const guarded = `(color = 'red') AND "x-victoria-replay-to" IS NULL`;
    expect(matches(guarded, message({ color: "red" }))).toBe(true);
    expect(matches(guarded, message({ color: "red", "x-victoria-replay-to": "audit" }))).toBe(false);
  });

  test("IN, LIKE, parentheses, NOT", () => {
    const m = message({ region: "eu-west", tier: "gold" });
    expect(matches("region LIKE 'eu-%'", m)).toBe(true);
    expect(matches("region NOT LIKE 'us%'", m)).toBe(true);
    expect(matches("region LIKE 'eu_west'", m)).toBe(true);
    expect(matches("tier IN ('gold', 'silver')", m)).toBe(true);
    expect(matches("tier NOT IN ('gold')", m)).toBe(false);
    expect(matches("NOT (tier = 'bronze' OR region = 'us')", m)).toBe(true);
  });

  test("system properties", () => {
    const m = message(
      {},
      { subject: "order.created", correlation_id: "c-1", content_type: "application/json" },
    );
    expect(matches("sys.Label = 'order.created'", m)).toBe(true);
    expect(matches("sys.Subject LIKE 'order.%'", m)).toBe(true);
    expect(matches("sys.CorrelationId = 'c-1' AND sys.ContentType = 'application/json'", m)).toBe(true);
    expect(matches("sys.MessageId IS NULL", m)).toBe(true);
  });

  test("parameters", () => {
    expect(matches("color = @c", message({ color: "red" }), { "@c": "red" })).toBe(true);
  });

  test.each([
    ["", /empty/],
    ["color = ", /ends too early/],
    ["color = 'red", /unterminated string/],
    ["(color = 'red'", /expected '\)'/],
    ["color", /expected a condition/],
    ["color = 'red' AND", /ends too early/],
    ["sys.Colour = 'x'", /'sys.Colour' is not a system property/],
    ["color = @missing", /parameter '@missing' is not defined/],
    ["newid() = 'x'", /function 'newid' is not supported/],
    ["color # 'x'", /unexpected character '#'/],
    ["'a' IS NULL", /IS NULL needs a property/],
  ])("refuses %j", (expression, problem) => {
    expect(() => compileSqlFilter(expression)).toThrow(SqlFilterError);
    expect(() => compileSqlFilter(expression)).toThrow(problem);
  });
});

import { describe, expect, test } from "vitest";
import { parseAddress } from "./addresses";

describe("parseAddress", () => {
  test.each([
    ["orders", { entityPath: "orders", deadLetter: false, management: false }],
    ["orders/$DeadLetterQueue", { entityPath: "orders", deadLetter: true, management: false }],
    ["orders/$management", { entityPath: "orders", deadLetter: false, management: true }],
    ["orders/$deadletterqueue/$management", { entityPath: "orders", deadLetter: true, management: true }],
    [
      "events/Subscriptions/audit",
      { entityPath: "events/Subscriptions/audit", deadLetter: false, management: false },
    ],
    [
      "events/subscriptions/audit/$DeadLetterQueue",
      { entityPath: "events/subscriptions/audit", deadLetter: true, management: false },
    ],
    ["sb://127.0.0.1:5672/orders", { entityPath: "orders", deadLetter: false, management: false }],
  ])("%s", (address, expected) => {
    expect(parseAddress(address)).toEqual(expected);
  });

  test.each(["", "a/b", "events/Rules/x", "$DeadLetterQueue"])("rejects '%s'", (address) => {
    expect(parseAddress(address)).toBeUndefined();
  });
});

import rhea from "rhea";
import { describe, expect, test } from "vitest";
import { deliveryTagFor, lockTokenOfTag, lockTokenOfUuid, newLockToken } from "./lock-token";

describe("lock tokens", () => {
  test("the delivery tag holds the token as a .NET GUID (first three fields little-endian)", () => {
    const tag = deliveryTagFor("00112233-4455-6677-8899-aabbccddeeff");
    expect(tag.toString("hex")).toBe("33221100554477668899aabbccddeeff");
    expect(lockTokenOfTag(tag)).toBe("00112233-4455-6677-8899-aabbccddeeff");
  });

  test("round-trips random tokens; $management carries them as plain uuids", () => {
    const token = newLockToken();
    expect(lockTokenOfTag(deliveryTagFor(token))).toBe(token);
    // What the SDK sends to $management: string_to_uuid(lockToken).
    expect(lockTokenOfUuid(rhea.string_to_uuid(token))).toBe(token);
    expect(lockTokenOfUuid("not a uuid")).toBeUndefined();
    expect(lockTokenOfTag(Buffer.from("0"))).toBeUndefined();
  });
});

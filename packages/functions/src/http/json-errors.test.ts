import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { describe, expect, it } from "vitest";
import { errorBody, jsonError } from "./json-errors";

describe("JSON errors", () => {
  it.each([
    [400, "Invalid request"],
    [401, "Unauthorized"],
    [403, "Forbidden"],
    [404, "Not found"],
    [405, "Method not allowed"],
    [413, "Payload too large"],
    [415, "Unsupported media type"],
    [422, "Unprocessable Entity"],
    [500, "Internal error"],
    [501, "Not implemented"],
    [503, "Service unavailable"],
  ] as const)("titles every status the routes answer with: %i is %s", async (status, title) => {
    expect(errorBody(status, "why").error).toBe(title);
    const app = new Hono().get("/", (c) => jsonError(c, status as ContentfulStatusCode, "why"));
    const response = await app.request("/");
    expect([response.status, await response.json()]).toEqual([status, { error: title, message: "why" }]);
  });
});

import { describe, expect, it } from "vitest";
import { childEnvironment, childUser } from "./execute-runner";

describe("a VICTORIA_BIN child's environment", () => {
  const parent = {
    PATH: "/usr/bin",
    LANG: "C.UTF-8",
    VICTORIA_CONFIG: "/etc/victoria.yaml",
    VICTORIA_SHARED_SECRET: "shared",
    SLACK_SIGNING_SECRET: "signing",
    SLACK_BOT_TOKEN: "xoxb-token",
    LISTENER_TOKEN: "listener",
    AZURE_CLIENT_SECRET: "azure",
    SERVICE_BUS_CONNECTIONS: '{"a":"Endpoint=sb://x/;SharedAccessKey=k"}',
    AWS_SECRET_ACCESS_KEY: "aws",
    AWS_SESSION_TOKEN: "session",
    SOMETHING_NEW: "unknown to us",
  };

  it("is an allow-list: config, locale and paths, marked as server mode, no secret", () => {
    expect(childEnvironment(parent)).toEqual({
      VICTORIA_SERVER_MODE: "1",
      PATH: "/usr/bin",
      LANG: "C.UTF-8",
      VICTORIA_CONFIG: "/etc/victoria.yaml",
    });
  });

  it("adds what the operator names in VICTORIA_BIN_ENV, and only that", () => {
    expect(
      childEnvironment({ ...parent, VICTORIA_BIN_ENV: " SERVICE_BUS_CONNECTIONS , AWS_SESSION_TOKEN" }),
    ).toEqual({
      VICTORIA_SERVER_MODE: "1",
      PATH: "/usr/bin",
      LANG: "C.UTF-8",
      VICTORIA_CONFIG: "/etc/victoria.yaml",
      SERVICE_BUS_CONNECTIONS: parent.SERVICE_BUS_CONNECTIONS,
      AWS_SESSION_TOKEN: "session",
    });
  });

  it("runs as nobody under root unless told otherwise, and not at all differently without root", () => {
    if (process.getuid?.() === 0) {
      expect(childUser({})).toEqual({ uid: 65534, gid: 65534 });
      expect(childUser({ VICTORIA_BIN_UID: "1000", VICTORIA_BIN_GID: "1001" })).toEqual({
        uid: 1000,
        gid: 1001,
      });
      expect(() => childUser({ VICTORIA_BIN_UID: "nobody" })).toThrow(/numeric ids/);
    } else {
      expect(childUser({ VICTORIA_BIN_UID: "1000" })).toBeUndefined();
    }
  });
});

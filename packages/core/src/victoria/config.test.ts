import { describe, expect, it } from "vitest";
import { parseConfig } from "./config";
import { ConfigError } from "./errors";

function failure(yaml: string, source = "my/victoria.yaml"): string {
  try {
    parseConfig(yaml, source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected the config to be refused");
}

describe("victoria.yaml errors: one line naming the file, the field and what it must be", () => {
  it.each([
    [
      "a partial config without logging_config",
      "encryption_provider:\n  provider: local\n  config: {key_file: k.pem}\n",
      "Config file 'my/victoria.yaml' is invalid: logging_config is missing (expected a mapping for Python's logging dictConfig, e.g. 'logging_config: {version: 1}')",
    ],
    [
      "an empty file",
      "",
      "Config file 'my/victoria.yaml' is invalid: logging_config is missing (expected a mapping for Python's logging dictConfig, e.g. 'logging_config: {version: 1}')",
    ],
    [
      "a provider without a name",
      "logging_config: {}\nencryption_provider:\n  provider: ''\n",
      "Config file 'my/victoria.yaml' is invalid: encryption_provider.provider is empty (expected the provider's name, e.g. local or azure)",
    ],
    [
      "a storage provider that is not a mapping",
      "logging_config: {}\nstorage_providers:\n  local: [a, b]\n",
      "Config file 'my/victoria.yaml' is invalid: storage_providers.local is a list (expected a mapping of that provider's settings, e.g. {container: .victoria/store} for local)",
    ],
    [
      "a file that is not a mapping",
      "just some text\n",
      "Config file 'my/victoria.yaml' is invalid: the file is text (expected a mapping of settings: logging_config, encryption_provider, storage_providers, plugins_config)",
    ],
  ])("%s", (_, yaml, expected) => {
    const message = failure(yaml);
    expect(message).toBe(expected);
    expect(message).not.toMatch(/\n|Invalid input|received|record/);
  });

  it("names every offending field once, and never echoes a value (it may be a credential)", () => {
    const message = failure(
      "logging_config: 'secret-text-1'\nplugins_config_location:\n  config: 42\nencryption_provider: 'secret-text-2'\n",
    );
    expect(message).toContain("logging_config is text (expected a mapping");
    expect(message).toContain("encryption_provider is text (expected a mapping {provider, config}, or null");
    expect(message).toContain(
      "plugins_config_location.config is a number (expected text: '<storage provider>://<key>')",
    );
    expect(message).not.toContain("secret-text");
    expect(message.split("\n")).toHaveLength(1);
  });

  it("still accepts the minimal config and fills the defaults", () => {
    expect(parseConfig("logging_config: {version: 1}\n", "x")).toEqual({
      logging_config: { version: 1 },
      encryption_provider: null,
      storage_providers: {},
      plugins_config: {},
      plugins_config_location: {},
    });
  });
});

import { describe, expect, it } from "vitest";
import { DEFAULT_AUTHORITY_HOST, entraAuthority } from "./entra-authority";

describe("entraAuthority", () => {
  it("is Entra itself by default, with MSAL's instance discovery", () => {
    expect(entraAuthority({})).toEqual({
      authorityHost: DEFAULT_AUTHORITY_HOST,
      disableInstanceDiscovery: false,
    });
  });

  it("skips instance discovery for a host that is not Entra's (a stand-in), keeps it for sovereign clouds", () => {
    expect(entraAuthority({ AZURE_AUTHORITY_HOST: "https://127.0.0.1:4443" })).toEqual({
      authorityHost: "https://127.0.0.1:4443",
      disableInstanceDiscovery: true,
    });
    expect(
      entraAuthority({ AZURE_AUTHORITY_HOST: "https://login.microsoftonline.us" }).disableInstanceDiscovery,
    ).toBe(false);
  });

  it("refuses what @azure/identity would, naming the variable", () => {
    expect(() => entraAuthority({ AZURE_AUTHORITY_HOST: "http://127.0.0.1" })).toThrow(
      "AZURE_AUTHORITY_HOST must be an https URL",
    );
    expect(() => entraAuthority({ AZURE_AUTHORITY_HOST: "not a url" })).toThrow(
      "AZURE_AUTHORITY_HOST is not a URL",
    );
  });
});

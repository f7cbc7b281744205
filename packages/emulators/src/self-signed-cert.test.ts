import { X509Certificate } from "node:crypto";
import { createServer, get } from "node:https";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createSelfSignedCert } from "./self-signed-cert";

function fetchText(port: number, host: string, ca?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host, port, path: "/", ca }, (res) => {
      let body = "";
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () => resolve(body));
    }).on("error", reject);
  });
}

describe("createSelfSignedCert", () => {
  it("makes a valid, self-signed X.509 certificate for 127.0.0.1 and localhost", () => {
    const { cert } = createSelfSignedCert();
    const x509 = new X509Certificate(cert);
    expect(x509.subject).toMatch(/^CN=Victoria stand-in [0-9a-f]{12}$/);
    // Each its own subject, so one trust bundle can hold several stand-ins' certificates.
    expect(new X509Certificate(createSelfSignedCert().cert).subject).not.toBe(x509.subject);
    expect(x509.subjectAltName).toBe("IP Address:127.0.0.1, DNS:localhost");
    expect(x509.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(new Date(x509.validFrom).getTime()).toBeLessThan(Date.now());
    expect(new Date(x509.validTo).getTime()).toBeGreaterThan(Date.now() + 86_400_000);
  });

  it("serves HTTPS that a client trusts with the certificate as its CA, and only then", async () => {
    const tls = createSelfSignedCert();
    const server = createServer(tls, (_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await fetchText(port, "127.0.0.1", tls.cert)).toBe("ok");
      expect(await fetchText(port, "localhost", tls.cert)).toBe("ok");
      await expect(fetchText(port, "127.0.0.1")).rejects.toThrow(/self-signed certificate/);
      await expect(fetchText(port, "127.0.0.1", createSelfSignedCert().cert)).rejects.toThrow();
    } finally {
      server.close();
    }
  });
});

describe("certificate encoding", () => {
  it("always yields a certificate Node can parse (random serials included)", () => {
    for (let i = 0; i < 300; i++) {
      const { cert } = createSelfSignedCert();
      expect(() => new X509Certificate(cert)).not.toThrow();
    }
  });
});

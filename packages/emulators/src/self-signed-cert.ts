import { createPublicKey, generateKeyPairSync, randomBytes, sign } from "node:crypto";

/**
 * A throwaway self-signed TLS certificate for loopback stand-ins, built with node:crypto alone (Node has
 * no X.509 writer, and tests should not need the openssl CLI). Clients trust it by passing `cert` as `ca`.
 */
export interface SelfSignedCert {
  /** PEM private key (PKCS#8). */
  key: string;
  /** PEM certificate; also what clients pass as `ca`. */
  cert: string;
}

export interface SelfSignedCertOptions {
  commonName?: string;
  /** Subject alternative names: IPv4 addresses and DNS names. */
  ipAddresses?: string[];
  dnsNames?: string[];
  validDays?: number;
}

// Minimal DER encoding: just the types an X.509 v3 certificate needs.
function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const sequence = (...items: Buffer[]) => tlv(0x30, ...items);
const set = (...items: Buffer[]) => tlv(0x31, ...items);
const explicit = (n: number, item: Buffer) => tlv(0xa0 | n, item);
function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}
const integer = (bytes: Buffer) =>
  tlv(0x02, bytes[0] !== undefined && bytes[0] >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, "utf8"));
const utcTime = (date: Date) =>
  tlv(0x17, Buffer.from(`${date.toISOString().replace(/[-:T]/g, "").slice(2, 14)}Z`, "ascii"));
const bitString = (bytes: Buffer) => tlv(0x03, Buffer.from([0]), bytes);
const octetString = (bytes: Buffer) => tlv(0x04, bytes);

const ECDSA_WITH_SHA256 = sequence(oid("1.2.840.10045.4.3.2"));

function pem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** Makes an ECDSA P-256 certificate for `127.0.0.1` and `localhost` (by default), valid from an hour ago. */
export function createSelfSignedCert(options: SelfSignedCertOptions = {}): SelfSignedCert {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  // A name of its own per certificate: trust stores look issuers up by subject, so two stand-ins'
  // certificates named alike in one NODE_EXTRA_CA_CERTS bundle would hide each other.
  const commonName = options.commonName ?? `Victoria stand-in ${randomBytes(6).toString("hex")}`;
  const name = sequence(set(sequence(oid("2.5.4.3"), utf8(commonName))));
  const now = Date.now();
  const altNames = [
    ...(options.ipAddresses ?? ["127.0.0.1"]).map((ip) => tlv(0x87, Buffer.from(ip.split(".").map(Number)))),
    ...(options.dnsNames ?? ["localhost"]).map((dns) => tlv(0x82, Buffer.from(dns, "ascii"))),
  ];
  const extensions = sequence(
    // basicConstraints (critical) CA:TRUE, as `openssl req -x509` makes, so it can anchor its own chain.
    sequence(
      oid("2.5.29.19"),
      tlv(0x01, Buffer.from([0xff])),
      octetString(sequence(tlv(0x01, Buffer.from([0xff])))),
    ),
    sequence(oid("2.5.29.17"), octetString(sequence(...altNames))),
  );
  const serial = randomBytes(16);
  // DER integers are minimal and signed: a first byte of 0x40–0x7f is neither padding nor negative.
  serial[0] = ((serial[0] ?? 0) & 0x3f) | 0x40;
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ECDSA_WITH_SHA256,
    name,
    sequence(
      utcTime(new Date(now - 3600_000)),
      utcTime(new Date(now + (options.validDays ?? 7) * 86_400_000)),
    ),
    name,
    createPublicKey(privateKey).export({ type: "spki", format: "der" }),
    explicit(3, extensions),
  );
  const signature = sign("sha256", tbs, privateKey);
  return {
    key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    cert: pem("CERTIFICATE", sequence(tbs, ECDSA_WITH_SHA256, bitString(signature))),
  };
}

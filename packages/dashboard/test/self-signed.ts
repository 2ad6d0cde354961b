// A self-signed certificate for 127.0.0.1 and localhost, made by openssl for one test run (a day
// long), and a key of another pair: what the TLS tests serve and refuse.
import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SelfSigned {
  /** The files, for the CLI's flags. */
  readonly certFile: string;
  readonly keyFile: string;
  /** A key that is not the certificate's. */
  readonly otherKeyFile: string;
  readonly cert: string;
  readonly key: string;
  readonly otherKey: string;
  /** The base64 SHA-256 of the certificate's public key, as Chromium's SPKI list takes it. */
  readonly spki: string;
}

function pair(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
      ...["-keyout", key, "-out", cert],
    ],
    { stdio: "ignore" },
  );
  return { cert, key };
}

export function selfSigned(): SelfSigned {
  const dir = mkdtempSync(join(tmpdir(), "taskq-tls-"));
  const served = pair(dir, "served");
  const other = pair(dir, "other");
  const cert = readFileSync(served.cert, "utf8");
  const spki = createHash("sha256")
    .update(new X509Certificate(cert).publicKey.export({ type: "spki", format: "der" }))
    .digest("base64");
  return {
    certFile: served.cert,
    keyFile: served.key,
    otherKeyFile: other.key,
    cert,
    key: readFileSync(served.key, "utf8"),
    otherKey: readFileSync(other.key, "utf8"),
    spki,
  };
}

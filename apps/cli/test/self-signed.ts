// A self-signed certificate for 127.0.0.1 and localhost, its key and a key of another pair, made
// by openssl once per test file (a day long): what the dashboard's TLS flags are given.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The PEM files by name: cert.pem, key.pem, and other-key.pem (not the certificate's). */
export function selfSignedFiles(): Record<"cert.pem" | "key.pem" | "other-key.pem", string> {
  const dir = mkdtempSync(join(tmpdir(), "taskq-cli-tls-"));
  const make = (name: string) =>
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
        ...["-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        ...["-keyout", join(dir, `${name}key.pem`), "-out", join(dir, `${name}cert.pem`)],
      ],
      { stdio: "ignore" },
    );
  make("");
  make("other-");
  const read = (name: string) => readFileSync(join(dir, name), "utf8");
  return { "cert.pem": read("cert.pem"), "key.pem": read("key.pem"), "other-key.pem": read("other-key.pem") };
}

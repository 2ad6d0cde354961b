import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import { ConfigError } from "taskq";

/** The dashboard's own TLS: a certificate (its chain may follow) and its private key, both PEM. */
export interface DashboardTls {
  /** The certificate in PEM (the file's contents, not its path), intermediates after it. */
  readonly cert: string | Buffer;
  /** The private key of the certificate in PEM, unencrypted (the file's contents, not its path). */
  readonly key: string | Buffer;
}

/** What each part is called in an error: the option (`tls.cert`), or a flag and its file. */
export interface TlsLabels {
  readonly cert: string;
  readonly key: string;
}

const pem = (value: unknown): value is string | Buffer => typeof value === "string" || Buffer.isBuffer(value);

/**
 * Checks a certificate and key before anything listens: each one PEM, the key unencrypted and the
 * certificate's. A ConfigError (option `tls`) whose message starts with the label of the part that
 * is wrong; never the key's text.
 */
export function checkTls(
  tls: unknown,
  labels: TlsLabels = { cert: "tls.cert", key: "tls.key" },
): DashboardTls {
  if (tls === null || typeof tls !== "object")
    throw new ConfigError("tls", "tls must be { cert, key }, each the PEM text of a file");
  const { cert, key } = tls as Record<string, unknown>;
  if (!pem(cert)) throw new ConfigError("tls", `${labels.cert} must be a PEM certificate (string or Buffer)`);
  if (!pem(key)) throw new ConfigError("tls", `${labels.key} must be a PEM private key (string or Buffer)`);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new ConfigError("tls", `${labels.cert} is not a PEM certificate`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    const encrypted = (error as NodeJS.ErrnoException).code === "ERR_MISSING_PASSPHRASE";
    throw new ConfigError(
      "tls",
      encrypted
        ? `${labels.key} is encrypted: give the key without its passphrase (readable by this user only)`
        : `${labels.key} is not a PEM private key`,
    );
  }
  if (!certificate.checkPrivateKey(privateKey))
    throw new ConfigError("tls", `${labels.key} is not the key of the certificate in ${labels.cert}`);
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new ConfigError(
      "tls",
      `${labels.cert} cannot serve TLS: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  return { cert, key };
}

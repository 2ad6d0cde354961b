// How the dashboard of `taskq dashboard` and `taskq serve --ui-port` is reached: its own TLS
// (--tls-cert/--tls-key, or TASKQ_DASHBOARD_TLS_CERT/_KEY), the proxies whose https it believes
// (--trust-proxy, TASKQ_DASHBOARD_TRUST_PROXY) and the opt-out of the https rule
// (--allow-plain-http). Read and checked before the store is opened: a mistake is one line naming
// the flag or the variable (and the file, never its contents), exit 2.
import { readFileSync } from "node:fs";
import { checkTls, type DashboardTls, TrustedProxies } from "@taskq/dashboard";
import { CliError } from "taskq/app";
import type { Argv } from "yargs";

/** The variables beside the flags (as TASKQ_DASHBOARD_TOKEN); a flag wins over its variable. */
export const TLS_CERT_ENV = "TASKQ_DASHBOARD_TLS_CERT";
export const TLS_KEY_ENV = "TASKQ_DASHBOARD_TLS_KEY";
export const TRUST_PROXY_ENV = "TASKQ_DASHBOARD_TRUST_PROXY";

export interface TransportArgs {
  "tls-cert"?: string;
  "tls-key"?: string;
  "trust-proxy"?: string[];
  "allow-plain-http": boolean;
}

/** What startDashboard is given of these flags. */
export interface DashboardTransport {
  readonly tls?: DashboardTls;
  readonly trustProxy?: readonly string[];
  readonly allowPlainHttp: boolean;
}

/** The four flags, on `taskq dashboard` and on `taskq serve` (`note` ends their help there). */
export function transportOptions<T>(y: Argv<T>, note = "") {
  return y
    .option("tls-cert", {
      type: "string",
      requiresArg: true,
      describe: `serve https with this PEM certificate file (with --tls-key; or ${TLS_CERT_ENV})${note}`,
    })
    .option("tls-key", {
      type: "string",
      requiresArg: true,
      describe: `the certificate's private key, a PEM file, unencrypted (or ${TLS_KEY_ENV})${note}`,
    })
    .option("trust-proxy", {
      type: "string",
      array: true,
      requiresArg: true,
      describe: `proxies (addresses or CIDRs, comma-separated or repeated) whose X-Forwarded-Proto or Forwarded saying https makes the session cookie Secure (or ${TRUST_PROXY_ENV}; default: none)${note}`,
    })
    .option("allow-plain-http", {
      type: "boolean",
      default: false,
      describe: `serve a token over plain http on an address other than loopback (only behind a TLS proxy)${note}`,
    });
}

/** A flag's value, else its variable's (empty is unset), with the label an error names. */
function given(
  flag: string,
  value: string | undefined,
  env: string,
): { label: string; value: string } | undefined {
  if (value !== undefined) return { label: `--${flag}`, value };
  const fromEnv = process.env[env];
  return fromEnv === undefined || fromEnv === "" ? undefined : { label: env, value: fromEnv };
}

function readPem(label: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "it is a directory"
          : code === "EACCES" || code === "EPERM"
            ? "permission denied"
            : (code ?? "unreadable");
    throw new CliError(`${label}: cannot read ${file}: ${why}`, 2);
  }
}

/** Reads and checks the flags (or their variables): the files read, the addresses parsed. */
export function resolveTransport(argv: TransportArgs): DashboardTransport {
  const cert = given("tls-cert", argv["tls-cert"], TLS_CERT_ENV);
  const key = given("tls-key", argv["tls-key"], TLS_KEY_ENV);
  if ((cert === undefined) !== (key === undefined))
    throw new CliError(
      cert === undefined
        ? `${key?.label} needs --tls-cert (or ${TLS_CERT_ENV}): the certificate of the key`
        : `${cert.label} needs --tls-key (or ${TLS_KEY_ENV}): the key of the certificate`,
      2,
    );
  let tls: DashboardTls | undefined;
  if (cert !== undefined && key !== undefined) {
    const pems = { cert: readPem(cert.label, cert.value), key: readPem(key.label, key.value) };
    tls = checkTls(pems, { cert: `${cert.label} ${cert.value}`, key: `${key.label} ${key.value}` });
  }
  const proxies =
    argv["trust-proxy"] !== undefined
      ? { label: "--trust-proxy", list: argv["trust-proxy"] }
      : process.env[TRUST_PROXY_ENV]
        ? { label: TRUST_PROXY_ENV, list: [process.env[TRUST_PROXY_ENV] as string] }
        : undefined;
  let trustProxy: string[] | undefined;
  if (proxies !== undefined) {
    trustProxy = proxies.list.flatMap((item) => item.split(",")).map((item) => item.trim());
    new TrustedProxies(trustProxy, proxies.label); // one line naming the flag or the variable
  }
  return {
    ...(tls === undefined ? {} : { tls }),
    ...(trustProxy === undefined ? {} : { trustProxy }),
    allowPlainHttp: argv["allow-plain-http"],
  };
}

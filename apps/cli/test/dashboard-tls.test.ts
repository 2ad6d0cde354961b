// The dashboard's transport flags at work (their mistakes are in bad-input.test.ts): https with
// --tls-cert/--tls-key, and a token over plain http on a network address only with
// --allow-plain-http. Each a real process, waited on through what it prints.
import { writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startTaskq, taskq, until, workdir } from "./helpers.js";
import { selfSignedFiles } from "./self-signed.js";

const TOKEN = { TASKQ_DASHBOARD_TOKEN: "Zq8-dashboard-token-4Lp" };

/** A GET over https trusting `ca` only: its status. */
const getOverHttps = (url: string, ca: string) =>
  new Promise<number>((resolve, reject) => {
    request(url, { ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on("error", reject)
      .end();
  });

describe("the dashboard's TLS flags", () => {
  it("taskq dashboard --tls-cert --tls-key serves https on a network address, behind the token", async () => {
    const dir = workdir();
    const pems = selfSignedFiles();
    for (const [name, text] of Object.entries(pems)) writeFileSync(join(dir, name), text);
    expect((await taskq(dir, ["submit", "--random"])).code).toBe(0); // a store to show
    const board = startTaskq(
      dir,
      ["dashboard", "--port", "0", "--host", "0.0.0.0", "--tls-cert", "cert.pem", "--tls-key", "key.pem"],
      TOKEN,
    );
    try {
      const port = () => Number(/dashboard on https:\/\/0\.0\.0\.0:(\d+)\//.exec(board.output().stderr)?.[1]);
      await until(() => port() > 0, "taskq dashboard to listen");
      expect(await getOverHttps(`https://127.0.0.1:${port()}/login`, pems["cert.pem"])).toBe(200);
      // the token is asked for over https as over http
      expect(await getOverHttps(`https://127.0.0.1:${port()}/tasks`, pems["cert.pem"])).toBe(302);
    } finally {
      board.child.kill("SIGTERM");
      await board.exited;
    }
    expect(board.output().stderr).not.toContain(pems["key.pem"].split("\n")[1]);
  });

  it("serve --ui-port on a network address with a token over plain http: only with --allow-plain-http", async () => {
    const dir = workdir();
    const serve = startTaskq(
      dir,
      ["serve", "--threads", "1", "--ui-port", "0", "--ui-host", "0.0.0.0", "--allow-plain-http"],
      TOKEN,
    );
    try {
      const port = () => Number(/dashboard on http:\/\/0\.0\.0\.0:(\d+)\//.exec(serve.output().stderr)?.[1]);
      await until(() => port() > 0, "taskq serve's dashboard to listen");
      expect((await fetch(`http://127.0.0.1:${port()}/login`)).status).toBe(200);
    } finally {
      serve.child.kill("SIGTERM");
      await serve.exited;
    }
  });
});

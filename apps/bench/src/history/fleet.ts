// The run's processes: the producer and the workers, each a child process started from
// dist/history/, each exit recorded in the fleet log with whether the run meant it (a fault's
// SIGKILL, the end's SIGTERM) or not (a crash: the checker reports it). A worker that dies is
// replaced while the run lasts, so the fleet keeps its size.
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, createWriteStream } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FleetEntry } from "./model.js";

const script = (name: string) => fileURLToPath(new URL(`./history/${name}.js`, import.meta.url));

export interface Member {
  readonly role: "worker" | "producer";
  readonly child: ChildProcess;
  readonly pid: number;
  /** Set before the run stops or kills it: its exit is then no crash. */
  expected: boolean;
  stopped: boolean;
  readonly exited: Promise<void>;
}

export class Fleet {
  readonly workers = new Set<Member>();
  producer: Member | undefined;
  /** Set at the end of the run: exits after it start no replacement. */
  ending = false;
  readonly #out: string;
  readonly #store: string;
  readonly #fleetLog: string;

  constructor(out: string, store: string) {
    this.#out = out;
    this.#store = store;
    this.#fleetLog = join(out, "fleet.jsonl");
  }

  record(entry: FleetEntry): void {
    appendFileSync(this.#fleetLog, `${JSON.stringify(entry)}\n`);
  }

  /** Starts a process and resolves once it says it is ready (or exits first). */
  async #start(role: Member["role"], name: string, args: object): Promise<Member> {
    const child = spawn(process.execPath, [script(name), JSON.stringify(args)], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    const pid = child.pid ?? -1;
    child.stderr?.pipe(createWriteStream(join(this.#out, `${role}-${pid}.stderr`)));
    let ready: () => void = () => undefined;
    const readyOrExit = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const member: Member = {
      role,
      child,
      pid,
      expected: false,
      stopped: false,
      exited: new Promise((resolve) =>
        child.once("exit", (code, signal) => {
          // a producer ends by itself at the run's deadline
          if (role === "producer" && code === 0) member.expected = true;
          this.record({ ev: "exit", t: Date.now(), pid, role, expected: member.expected, code, signal });
          ready();
          resolve();
        }),
      ),
    };
    child.on("message", (m: { ready?: boolean }) => {
      if (m?.ready) ready();
    });
    this.record({ ev: "spawn", t: Date.now(), pid, role });
    await readyOrExit;
    return member;
  }

  async startWorker(): Promise<Member> {
    const member = await this.#start("worker", "worker", { store: this.#store, historyDir: this.#out });
    this.workers.add(member);
    void member.exited.then(() => {
      this.workers.delete(member);
      if (!member.expected && !this.ending) void this.startWorker();
    });
    return member;
  }

  async startProducer(gen: number, seed: number, deadline: number): Promise<Member> {
    const member = await this.#start("producer", "producer", {
      store: this.#store,
      logFile: join(this.#out, "producer.jsonl"),
      gen,
      seed,
      deadline,
      setup: gen === 0,
    });
    this.producer = member;
    return member;
  }

  /** SIGKILLs a member the run chose, and waits for its exit. */
  async kill(member: Member): Promise<void> {
    member.expected = true;
    if (member.stopped) member.child.kill("SIGCONT");
    member.child.kill("SIGKILL");
    await member.exited;
  }

  /** Ends every process: SIGCONT, then SIGTERM (a draining close), then SIGKILL after `graceMs`. */
  async stopAll(graceMs: number): Promise<void> {
    this.ending = true;
    const all = [...this.workers, ...(this.producer ? [this.producer] : [])];
    for (const m of all) {
      m.expected = true;
      m.child.kill("SIGCONT");
      m.child.kill("SIGTERM");
    }
    const timer = setTimeout(() => {
      for (const m of all) m.child.kill("SIGKILL");
    }, graceMs);
    await Promise.all(all.map((m) => m.exited));
    clearTimeout(timer);
  }
}

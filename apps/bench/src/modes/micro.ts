// `taskq-bench micro`: the components timed alone, in operations per second.
import { availableParallelism } from "node:os";
import type { Argv } from "yargs";
import { runMicro } from "../micro.js";
import type { Mode } from "./shared.js";

const builder = (y: Argv) =>
  y.option("scale", { type: "number", default: 1, describe: "shrink (or grow) every loop" });

export const microMode: Mode<typeof builder> = {
  command: "micro",
  describe: "Micro-benchmarks of the components, in operations per second",
  builder,
  handler: async (argv) => {
    for (const r of await runMicro(argv.scale)) {
      console.log(
        `${r.name.padEnd(52)} ${Math.round(r.opsPerSecond).toLocaleString("en-US").padStart(12)} ops/s`,
      );
    }
    console.log(`node ${process.version}, ${availableParallelism()} cores`);
  },
};

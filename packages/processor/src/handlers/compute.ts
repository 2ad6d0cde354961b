import type { ComputeTask } from "../task-schema.js";

/** factorial and fibonacci in BigInt (exact), double as a number. Results as decimal strings. */
export function compute(task: ComputeTask): { result: string } {
  switch (task.operation) {
    case "double":
      return { result: String(task.value * 2) };
    case "factorial": {
      let acc = 1n;
      for (let i = 2n; i <= BigInt(task.value); i++) acc *= i;
      return { result: acc.toString() };
    }
    case "fibonacci": {
      let a = 0n;
      let b = 1n;
      for (let i = 0; i < task.value; i++) [a, b] = [b, a + b];
      return { result: a.toString() };
    }
  }
}

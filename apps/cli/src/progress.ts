import type { MetricsRecorder } from "@taskq/metrics";
import cliProgress from "cli-progress";

/** A live progress display: a bar on a TTY, a plain line every few seconds otherwise. */
export interface Progress {
  tick(done: number): void;
  stop(): void;
}

export function startProgress(
  total: number,
  metrics: MetricsRecorder,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  const line = (done: number) => {
    const s = metrics.snapshot();
    return {
      rate: s.throughputTps.toFixed(0),
      p95: s.latency.p95.toFixed(1),
      depth: String(s.queueDepth),
      done,
    };
  };
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: "{bar} {value}/{total} | {rate} tasks/s | p95 {p95} ms | queue {depth}",
        hideCursor: true,
        noTTYOutput: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { rate: "0", p95: "0", depth: "0" });
    return {
      tick: (done) => bar.update(done, line(done)),
      stop: () => bar.stop(),
    };
  }
  let last = performance.now();
  return {
    tick(done) {
      const now = performance.now();
      if (now - last < 5000 && done < total) return;
      last = now;
      const l = line(done);
      stream.write(`progress: ${done}/${total} | ${l.rate} tasks/s | p95 ${l.p95} ms | queue ${l.depth}\n`);
    },
    stop() {},
  };
}

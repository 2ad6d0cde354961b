/** Options of a closed-loop load. */
export interface ClientsOptions<I, R> {
  /** Concurrent clients; each submits one item, awaits it, then submits the next. */
  readonly clients: number;
  /** Where items come from (an array, a file stream, a generator); shared by all clients. */
  readonly source: Iterable<I> | AsyncIterable<I>;
  readonly submit: (item: I) => Promise<R>;
  /** Called as each item settles. */
  readonly onSettled?: (item: I, outcome: PromiseSettledResult<R>) => void;
  /** Stops handing out new items. */
  readonly signal?: AbortSignal;
}

/** Counts of a closed-loop run. */
export interface ClientsSummary {
  readonly submitted: number;
  readonly fulfilled: number;
  readonly rejected: number;
}

/**
 * Runs `clients` concurrent clients in a closed loop over `source` (the seed's "N concurrent
 * clients"): each takes the next item, submits it, awaits the outcome, and goes on until the
 * source is exhausted or `signal` aborts. A rejected submit does not stop its client.
 */
export async function runClients<I, R>(options: ClientsOptions<I, R>): Promise<ClientsSummary> {
  if (!Number.isInteger(options.clients) || options.clients < 1) {
    throw new RangeError(`clients must be a positive integer, got ${options.clients}`);
  }
  const iterator =
    Symbol.asyncIterator in options.source
      ? (options.source as AsyncIterable<I>)[Symbol.asyncIterator]()
      : (options.source as Iterable<I>)[Symbol.iterator]();
  let submitted = 0;
  let fulfilled = 0;
  let rejected = 0;
  async function client(): Promise<void> {
    for (;;) {
      if (options.signal?.aborted) return;
      const next = await iterator.next();
      if (next.done) return;
      submitted++;
      let outcome: PromiseSettledResult<R>;
      try {
        outcome = { status: "fulfilled", value: await options.submit(next.value) };
        fulfilled++;
      } catch (reason) {
        outcome = { status: "rejected", reason };
        rejected++;
      }
      options.onSettled?.(next.value, outcome);
    }
  }
  await Promise.all(Array.from({ length: options.clients }, client));
  return { submitted, fulfilled, rejected };
}

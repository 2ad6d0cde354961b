import type { Readable } from "node:stream";
import { Readable as NodeReadable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { StorageError } from "./errors.js";
import type { CallOptions, ObjectBody, ObjectInfo, ObjectStore, PutResult } from "./object-store.js";
import { toChunks } from "./object-store.js";
import { createRng, type Random } from "./rng.js";

/** How the simulated network and server behave. */
export interface SimulationOptions {
  /**
   * Latency added to every request, in milliseconds (BASE_LATENCY_MS).
   * @default 0
   */
  readonly baseLatencyMs?: number;
  /**
   * Extra latency drawn uniformly from [0, jitterMs) for each request.
   * @default 0
   */
  readonly jitterMs?: number;
  /**
   * Bandwidth limit for object bodies in bytes per second; 0 means unlimited.
   * @default 0
   */
  readonly bytesPerSecond?: number;
  /**
   * Probability that a request fails with a transient ERR_INJECTED_FAULT before doing anything.
   * @default 0
   */
  readonly faultProbability?: number;
  /**
   * Probability that a put fails part-way with ERR_NO_SPACE (an ENOSPC-like error), after some
   * chunks were written; the store must then leave no object and no temporary file.
   * @default 0
   */
  readonly writeFaultProbability?: number;
  /**
   * Seed of the random draws (latency jitter, faults), so a run can be repeated.
   * @default 1
   */
  readonly seed?: number;
  /** Source of randomness; overrides `seed`. */
  readonly random?: Random;
}

function probability(name: string, value: number | undefined): number {
  const p = value ?? 0;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${value}`);
  return p;
}

function nonNegative(name: string, value: number | undefined): number {
  const v = value ?? 0;
  if (!(Number.isFinite(v) && v >= 0))
    throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
  return v;
}

/**
 * Wraps any object store with MinIO-like behaviour: a latency per request (base + jitter), an
 * optional bandwidth limit, and injected transient faults, all from a seeded generator.
 */
export class SimulatedObjectStore implements ObjectStore {
  readonly inner: ObjectStore;
  readonly baseLatencyMs: number;
  readonly jitterMs: number;
  readonly bytesPerSecond: number;
  readonly faultProbability: number;
  readonly writeFaultProbability: number;
  readonly #random: Random;

  constructor(inner: ObjectStore, options: SimulationOptions = {}) {
    this.inner = inner;
    this.baseLatencyMs = nonNegative("baseLatencyMs", options.baseLatencyMs);
    this.jitterMs = nonNegative("jitterMs", options.jitterMs);
    this.bytesPerSecond = nonNegative("bytesPerSecond", options.bytesPerSecond);
    this.faultProbability = probability("faultProbability", options.faultProbability);
    this.writeFaultProbability = probability("writeFaultProbability", options.writeFaultProbability);
    this.#random = options.random ?? createRng(options.seed ?? 1);
  }

  /** The simulated round trip of one request: latency, then maybe an injected fault. */
  async #request(what: string, signal?: AbortSignal): Promise<void> {
    const latency = this.baseLatencyMs + (this.jitterMs > 0 ? this.#random() * this.jitterMs : 0);
    const fault = this.faultProbability > 0 && this.#random() < this.faultProbability;
    if (latency > 0) await sleep(latency, undefined, signal ? { signal } : undefined);
    if (fault) throw new StorageError("ERR_INJECTED_FAULT", `${what}: injected transient fault (SlowDown)`);
  }

  async *#throttle(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, signal?: AbortSignal) {
    for await (const chunk of chunks) {
      if (this.bytesPerSecond > 0)
        await sleep((chunk.byteLength / this.bytesPerSecond) * 1000, undefined, { signal });
      yield chunk;
    }
  }

  async *#failPartWay(chunks: AsyncIterable<Uint8Array>, what: string) {
    let index = 0;
    for await (const chunk of chunks) {
      if (index++ === 1)
        throw new StorageError("ERR_NO_SPACE", `${what}: no space left on device (injected)`);
      yield chunk;
    }
    if (index <= 1) throw new StorageError("ERR_NO_SPACE", `${what}: no space left on device (injected)`);
  }

  async putObject(
    bucket: string,
    key: string,
    body: ObjectBody,
    options: CallOptions = {},
  ): Promise<PutResult> {
    const what = `put ${bucket}/${key}`;
    await this.#request(what, options.signal);
    const writeFault = this.writeFaultProbability > 0 && this.#random() < this.writeFaultProbability;
    if (!writeFault && this.bytesPerSecond === 0) return this.inner.putObject(bucket, key, body, options);
    let chunks: AsyncIterable<Uint8Array> = this.#throttle(toChunks(body), options.signal);
    if (writeFault) chunks = this.#failPartWay(chunks, what);
    return this.inner.putObject(bucket, key, chunks, options);
  }

  async getObject(bucket: string, key: string, options: CallOptions = {}): Promise<Readable> {
    await this.#request(`get ${bucket}/${key}`, options.signal);
    const stream = await this.inner.getObject(bucket, key, options);
    if (this.bytesPerSecond === 0) return stream;
    return NodeReadable.from(this.#throttle(stream, options.signal), { objectMode: false });
  }

  async statObject(bucket: string, key: string, options: CallOptions = {}): Promise<ObjectInfo> {
    await this.#request(`stat ${bucket}/${key}`, options.signal);
    return this.inner.statObject(bucket, key, options);
  }

  async listObjects(bucket: string, prefix?: string, options: CallOptions = {}): Promise<ObjectInfo[]> {
    await this.#request(`list ${bucket}`, options.signal);
    return this.inner.listObjects(bucket, prefix, options);
  }

  async removeObject(bucket: string, key: string, options: CallOptions = {}): Promise<void> {
    await this.#request(`remove ${bucket}/${key}`, options.signal);
    return this.inner.removeObject(bucket, key, options);
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

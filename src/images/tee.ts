// images/tee: feeds a blob stream into the content store while a consumer (the unpacker) reads it,
// and a small concurrency limiter.
import type { Writer } from '../content/store.js';

export class Tee implements AsyncIterable<Uint8Array> {
  private readonly it: AsyncIterator<Uint8Array>;
  private done = false;
  constructor(src: AsyncIterable<Uint8Array>, private readonly writer: Writer, private readonly onChunk?: (n: number) => void) {
    this.it = src[Symbol.asyncIterator]();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const r = await this.it.next();
      if (r.done) { this.ended(); return; }
      this.writer.write(r.value);
      this.onChunk?.(r.value.length);
      yield r.value;
    }
  }

  private async drain(): Promise<void> {
    while (!this.done) {
      const r = await this.it.next();
      if (r.done) this.ended();
      else { this.writer.write(r.value); this.onChunk?.(r.value.length); }
    }
  }

  /**
   * The whole blob is in: its data starts going to disk now, on the thread pool, while the unpacker (which
   * lags behind the download by its window and pipes) finishes the tree; commit's fsync then finds little left.
   */
  private ended(): void {
    this.done = true;
    this.writer.startSync();
  }

  /** Reads whatever the consumer left, then verifies and publishes the blob. */
  async finish(): Promise<string> {
    await this.drain();
    await this.writer.settled();
    return this.writer.commit();
  }

  /**
   * After the consumer failed: if the blob itself is bad, that is the real error (a corrupt
   * gzip stream is a symptom). Returns the blob's problem or undefined; never publishes.
   */
  async blame(): Promise<string | undefined> {
    try { await this.drain(); } catch { return undefined; } // the source broke: keep the original error
    return this.writer.mismatch();
  }
}

/** Runs tasks with at most n in flight; rejects with the first error after all have settled. */
export async function limit<T>(n: number, items: T[], fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let first: unknown;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try { await fn(items[i]!, i); } catch (e) { first ??= e; }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (first !== undefined) throw first;
}

/**
 * Chunks pushed by a synchronous producer (a tar parser's callbacks), read as an async iterable by one
 * consumer. The producer awaits room() to stay at most `max` bytes ahead; once the consumer stops
 * reading (it failed), pushes are dropped and room() no longer waits.
 */
export class Feed implements AsyncIterable<Uint8Array> {
  private q: Uint8Array[] = [];
  private qLen = 0;
  private ended = false;
  private closed = false;
  private wakeReader: (() => void) | undefined;
  private wakeWriter: (() => void) | undefined;

  push(c: Uint8Array): void {
    if (this.closed || c.length === 0) return;
    this.q.push(c);
    this.qLen += c.length;
    this.wakeReader?.();
  }

  end(): void { this.ended = true; this.wakeReader?.(); }

  async room(max: number): Promise<void> {
    while (this.qLen > max && !this.closed) await new Promise<void>((r) => { this.wakeWriter = r; });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        const c = this.q.shift();
        if (c) { this.qLen -= c.length; this.wakeWriter?.(); yield c; continue; }
        if (this.ended) return;
        await new Promise<void>((r) => { this.wakeReader = r; });
        this.wakeReader = undefined;
      }
    } finally {
      this.closed = true;
      this.q = [];
      this.qLen = 0;
      this.wakeWriter?.();
    }
  }
}

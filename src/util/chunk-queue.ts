// util/chunk-queue: hands a producer's chunks to one async consumer as they are, with back-pressure.
// A PassThrough's async iterator read() concatenates everything buffered into one new Buffer: a layer tar
// written as 512-byte headers and 64 KiB reads was copied whole once more (fromList, in berthd's profile
// of a build's commit).

export class ChunkQueue implements AsyncIterable<Buffer> {
  private readonly q: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failed: { e: unknown } | undefined;
  private wakeReader: (() => void) | undefined;
  private wakeWriter: (() => void) | undefined;

  constructor(private readonly highWater = 4 << 20) {}

  /** Queues a chunk (kept, not copied: the producer must not reuse it); resolves when there is room again. */
  async push(c: Buffer): Promise<void> {
    this.check();
    this.q.push(c);
    this.queued += c.length;
    this.wakeReader?.();
    while (this.queued > this.highWater && !this.failed) await new Promise<void>((r) => { this.wakeWriter = r; });
    this.check();
  }

  private check(): void { if (this.failed) throw this.failed.e; }

  end(): void { this.ended = true; this.wakeReader?.(); }

  /** Ends the stream with an error the consumer sees (and a waiting producer too). */
  fail(e: unknown): void { this.failed ??= { e }; this.wakeReader?.(); this.wakeWriter?.(); }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        const c = this.q.shift();
        if (c) {
          this.queued -= c.length;
          if (this.queued <= this.highWater) this.wakeWriter?.();
          yield c;
          continue;
        }
        this.check();
        if (this.ended) return;
        await new Promise<void>((r) => { this.wakeReader = r; });
        this.wakeReader = undefined;
      }
    } finally {
      // a consumer that stops early must not leave the producer waiting for room
      if (!this.ended) this.fail(new Error('chunk queue: the consumer stopped'));
    }
  }
}

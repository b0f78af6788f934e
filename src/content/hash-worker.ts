// content/hash-worker: the sha256 of a file another thread is writing, computed on a worker thread as the
// file grows. A layer berth writes itself (commit, build) is written and hashed on one thread otherwise:
// for a 100 MB commit the hash was ~100 ms of the main thread's ~250 (profile), beside ~140 ms of reads and
// writes; here it runs on the other core meanwhile, reading the blob back from the page cache.
// Loaded only through import(): it starts workers from its own file (import.meta.url), which must stay
// a module of its own in the esbuild bundle.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

interface Start { berthHashFile: string }
type ToWorker = { upTo: number } | { end: number };
type FromWorker = { digest: string } | { error: string };

/** Bytes written between two messages to the worker: few messages, and it never lags far behind. */
const STEP = 2 << 20;

/**
 * Hashes `file` (opened here, read from offset 0) while the caller writes it: tell it how far the file is
 * written (written()), then finish() with the final length for the digest (sha256:…). The bytes are read
 * after the caller's write returned, so they are the bytes written. abort() stops it.
 */
export class FileHasher {
  private readonly w: Worker;
  private readonly result: Promise<string>;
  private posted = 0;
  private ended = false;

  constructor(file: string) {
    this.w = new Worker(new URL(import.meta.url), { workerData: { berthHashFile: file } satisfies Start });
    this.result = new Promise<string>((resolve, reject) => {
      this.w.on('message', (m: FromWorker) => { if ('digest' in m) resolve(m.digest); else reject(new Error(`hashing ${file}: ${m.error}`)); });
      this.w.on('error', reject);
      this.w.on('exit', (code) => reject(new Error(`hashing ${file}: the worker exited (${code})`)));
    });
    this.result.catch(() => undefined); // reported by finish(); unawaited after an abort
  }

  /** The file holds at least n bytes now. */
  written(n: number): void {
    if (this.ended || n - this.posted < STEP) return;
    this.posted = n;
    this.w.postMessage({ upTo: n } satisfies ToWorker);
  }

  /** The file is complete at n bytes: its digest. */
  async finish(n: number): Promise<string> {
    this.ended = true;
    this.w.postMessage({ end: n } satisfies ToWorker);
    try { return await this.result; } finally { void this.w.terminate(); }
  }

  abort(): void {
    this.ended = true;
    void this.w.terminate();
  }
}

/** The worker's side: reads and hashes up to the last length it was told, as far as each message allows. */
function serve(file: string): void {
  const port = parentPort!;
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  let fd: number;
  try { fd = fs.openSync(file, 'r'); } catch (e) { port.postMessage({ error: (e as Error).message } satisfies FromWorker); return; }
  let hashed = 0;
  port.on('message', (m: ToWorker) => {
    const upTo = 'end' in m ? m.end : m.upTo;
    try {
      while (hashed < upTo) {
        const n = fs.readSync(fd, buf, 0, Math.min(buf.length, upTo - hashed), hashed);
        if (n === 0) throw new Error(`ends at ${hashed} bytes, ${upTo} were written`);
        hash.update(buf.subarray(0, n));
        hashed += n;
      }
      if ('end' in m) { port.postMessage({ digest: `sha256:${hash.digest('hex')}` } satisfies FromWorker); fs.closeSync(fd); port.close(); }
    } catch (e) {
      port.postMessage({ error: (e as Error).message } satisfies FromWorker);
      port.close();
    }
  });
}

if (!isMainThread && typeof (workerData as Partial<Start> | undefined)?.berthHashFile === 'string') serve((workerData as Start).berthHashFile);

// monitor/log: reads the json-file log the monitor writes (LOG.1 then LOG), optionally following it
// across rotation — what `docker logs [-f] [--tail N] [--since] [--until]` needs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errnoCode } from '../errors.js';

export interface LogEntry { stream: 'stdout' | 'stderr'; line: string; time: string }
export interface ReadLogOptions {
  follow?: boolean;
  tail?: number;          // the last N entries of what is already written
  since?: number | Date;  // unix seconds (fractions allowed) or a Date; entries at or after
  until?: number | Date;  // entries at or before; with follow, reading stops at the first later entry
  signal?: AbortSignal;   // ends a follow, after reading what was written up to then
}

/** RFC 3339 time -> nanoseconds since the epoch, exact. */
export function timeNs(t: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return BigInt(Date.parse(t)) * 1_000_000n;
  return BigInt(Date.parse(m[1]! + m[3]!)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9) || '0');
}

function toNs(v: number | Date): bigint {
  return v instanceof Date ? BigInt(v.getTime()) * 1_000_000n : BigInt(Math.round(v * 1e6)) * 1000n;
}

/** One log line -> entry; undefined for a line that is not one (never written by the monitor). */
export function parseLogLine(s: string): LogEntry | undefined {
  try {
    const o = JSON.parse(s) as { log?: unknown; stream?: unknown; time?: unknown };
    if (typeof o.log !== 'string' || typeof o.time !== 'string') return undefined;
    return { stream: o.stream === 'stderr' ? 'stderr' : 'stdout', line: o.log, time: o.time };
  } catch {
    return undefined;
  }
}

/** Reads complete lines from an open file, from where it left off. */
class LineReader {
  private pos = 0;
  private rest: Buffer = Buffer.alloc(0);
  constructor(readonly fh: fs.promises.FileHandle) {}
  async read(): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    const buf = Buffer.alloc(65536);
    for (;;) {
      const { bytesRead } = await this.fh.read(buf, 0, buf.length, this.pos);
      if (bytesRead === 0) return out;
      this.pos += bytesRead;
      let data = Buffer.concat([this.rest, buf.subarray(0, bytesRead)]);
      for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10)) {
        const e = parseLogLine(data.subarray(0, nl).toString('utf8'));
        if (e) out.push(e);
        data = data.subarray(nl + 1);
      }
      this.rest = Buffer.from(data); // a partly written entry: the rest comes with the next read
    }
  }
}

async function open(file: string): Promise<fs.promises.FileHandle | undefined> {
  try {
    return await fs.promises.open(file, 'r');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

export async function* readLog(file: string, opts: ReadLogOptions = {}): AsyncGenerator<LogEntry> {
  const since = opts.since !== undefined ? toNs(opts.since) : undefined;
  const until = opts.until !== undefined ? toNs(opts.until) : undefined;
  let cur = await open(file);
  const old = await open(`${file}.1`);
  const handles = new Set([cur, old]);
  // Follow: one watch on the directory sees both appends and the rename of a rotation.
  let wake: (() => void) | undefined;
  let dirty = false;
  const notify = () => { dirty = true; wake?.(); };
  const watcher = opts.follow ? fs.watch(path.dirname(file), notify) : undefined;
  watcher?.on('error', notify);
  opts.signal?.addEventListener('abort', notify);
  try {
    let past: LogEntry[] = [];
    if (old) past = await new LineReader(old).read();
    const reader = cur ? new LineReader(cur) : undefined;
    if (reader) past = past.concat(await reader.read());
    if (opts.tail !== undefined) past = opts.tail > 0 ? past.slice(-opts.tail) : [];
    const keep = (e: LogEntry): 'yes' | 'no' | 'stop' => {
      const t = since !== undefined || until !== undefined ? timeNs(e.time) : 0n;
      if (until !== undefined && t > until) return 'stop';
      return since !== undefined && t < since ? 'no' : 'yes';
    };
    for (const e of past) {
      const k = keep(e);
      if (k === 'stop') return;
      if (k === 'yes') yield e;
    }
    if (!opts.follow) return;
    let r = reader;
    for (let last = false; !last;) {
      last = !!opts.signal?.aborted;
      if (!last && !dirty) await new Promise<void>((res) => { wake = res; setTimeout(res, 1000).unref(); });
      wake = undefined;
      dirty = false;
      let batch = r ? await r.read() : [];
      // rotated (LOG is a new file): finish the old one, then start the new one from its beginning
      const st = await fs.promises.stat(file).catch(() => undefined);
      if (st && (!r || st.ino !== (await r.fh.stat()).ino)) {
        if (r) batch = batch.concat(await r.read());
        cur = await open(file);
        handles.add(cur);
        r = cur ? new LineReader(cur) : undefined;
        if (r) batch = batch.concat(await r.read());
      }
      for (const e of batch) {
        const k = keep(e);
        if (k === 'stop') return;
        if (k === 'yes') yield e;
      }
    }
  } finally {
    watcher?.close();
    opts.signal?.removeEventListener('abort', notify);
    for (const h of handles) await h?.close();
  }
}

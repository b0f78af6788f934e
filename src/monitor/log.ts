// monitor/log: reads the json-file log the monitor writes (LOG.N … LOG.1, then LOG), optionally following it
// across rotation — what `docker logs [-f] [--tail N] [--since] [--until]` needs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errnoCode } from '../errors.js';
import { LOG_LINE_MAX } from './protocol.js';

export interface LogEntry { stream: 'stdout' | 'stderr'; line: string; time: string }
export interface ReadLogOptions {
  follow?: boolean;
  tail?: number;          // the last N entries of what is already written
  since?: number | Date | string;  // unix seconds (fractions allowed; as a "secs.nanos" string, exact) or a Date; entries at or after
  until?: number | Date | string;  // entries at or before; with follow, reading stops at the first later entry
  signal?: AbortSignal;   // ends a follow, after reading what was written up to then
}

/** RFC 3339 time -> nanoseconds since the epoch, exact. */
export function timeNs(t: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return BigInt(Date.parse(t)) * 1_000_000n;
  return BigInt(Date.parse(m[1]! + m[3]!)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9) || '0');
}

function toNs(v: number | Date | string): bigint {
  // "secs.nanos" (docker's timestamp form) to the nanosecond: a double holds only about a tenth of a microsecond
  if (typeof v === 'string') {
    const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v);
    if (m) return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
    v = Number(v);
  }
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

/**
 * The longest line the monitor writes (monitor.c's buffer): LOG_LINE_MAX bytes of output, each escaped
 * to at most 6 ("\u0000"), and the JSON around them. The output is the container's, so a longer line
 * (never the monitor's) is skipped rather than held in memory.
 */
const MAX_ENTRY = LOG_LINE_MAX * 6 + 128;
/** More rotated files than any max-file asks for in practice; bounds the open handles. */
const MAX_ROTATED = 100;

/** Reads complete lines from an open file, from where it left off, a chunk at a time. */
class LineReader {
  private pos = 0;
  private rest: Buffer = Buffer.alloc(0);
  private skipping = false; // inside an over-long line: drop bytes up to its newline
  private readonly buf = Buffer.alloc(65536);
  constructor(readonly fh: fs.promises.FileHandle) {}
  /** The entries up to the end of the file as it is now, one chunk's worth in memory at a time. */
  async *entries(): AsyncGenerator<LogEntry> {
    for (;;) {
      const { bytesRead } = await this.fh.read(this.buf, 0, this.buf.length, this.pos);
      if (bytesRead === 0) return;
      this.pos += bytesRead;
      let data = this.rest.length ? Buffer.concat([this.rest, this.buf.subarray(0, bytesRead)]) : this.buf.subarray(0, bytesRead);
      const out: LogEntry[] = [];
      for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10)) {
        const e = this.skipping ? undefined : parseLogLine(data.subarray(0, nl).toString('utf8'));
        this.skipping = false;
        if (e) out.push(e);
        data = data.subarray(nl + 1);
      }
      if (data.length > MAX_ENTRY) { this.skipping = true; data = data.subarray(0, 0); }
      this.rest = Buffer.from(data); // a partly written entry: the rest comes with the next read
      yield* out;
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

/**
 * The log's files that came after the one with inode `afterIno`, oldest first, ending with LOG: more than one
 * rotation may have passed since a follower last looked, and a rotated file it never opened is still there as
 * LOG.k until max-file drops it. The names are read again until no rotation ran during the look (a rotation
 * renames them all). Without `afterIno` among them (dropped, or LOG started again), all are newer.
 */
async function filesAfter(file: string, afterIno: number | undefined): Promise<fs.promises.FileHandle[]> {
  for (;;) {
    const chain: fs.promises.FileHandle[] = []; // newest first: LOG, LOG.1, LOG.2, …
    const cur = await open(file);
    if (cur) chain.push(cur);
    for (let k = 1; k <= MAX_ROTATED; k++) {
      const h = await open(`${file}.${k}`);
      if (!h) break; // also the gap a rotation under way leaves: what lies past it is older than what is before it
      chain.push(h);
    }
    const inos = await Promise.all(chain.map(async (h) => (await h.stat()).ino));
    const now = await fs.promises.stat(file).catch(() => undefined);
    if (now?.ino === (cur ? inos[0] : undefined)) {
      const i = afterIno === undefined ? -1 : inos.indexOf(afterIno);
      const newer = i >= 0 ? chain.slice(0, i) : chain;
      for (const h of chain.slice(newer.length)) await h.close();
      return newer.reverse();
    }
    for (const h of chain) await h.close();
  }
}

export async function* readLog(file: string, opts: ReadLogOptions = {}): AsyncGenerator<LogEntry> {
  const since = opts.since !== undefined ? toNs(opts.since) : undefined;
  const until = opts.until !== undefined ? toNs(opts.until) : undefined;
  const cur = await open(file);
  // rotated files, oldest first; opened before reading, so a rotation meanwhile loses no entry we had
  const old: fs.promises.FileHandle[] = [];
  for (let k = 1; k <= MAX_ROTATED; k++) {
    const h = await open(`${file}.${k}`);
    if (!h) break;
    old.unshift(h);
  }
  const handles = new Set([cur, ...old]);
  // Follow: one watch on the directory sees both appends and the rename of a rotation.
  let wake: (() => void) | undefined;
  let dirty = false;
  const notify = () => { dirty = true; wake?.(); };
  const watcher = opts.follow ? fs.watch(path.dirname(file), notify) : undefined;
  watcher?.on('error', notify);
  opts.signal?.addEventListener('abort', notify);
  try {
    const keep = (e: LogEntry): 'yes' | 'no' | 'stop' => {
      const t = since !== undefined || until !== undefined ? timeNs(e.time) : 0n;
      if (until !== undefined && t > until) return 'stop';
      return since !== undefined && t < since ? 'no' : 'yes';
    };
    let stopped = false;
    async function* pass(entries: Iterable<LogEntry> | AsyncIterable<LogEntry>): AsyncGenerator<LogEntry> {
      for await (const e of entries) {
        const k = keep(e);
        if (k === 'stop') { stopped = true; return; }
        if (k === 'yes') yield e;
      }
    }
    // What is written already streams through: a log is as large as the container made it.
    const reader = cur ? new LineReader(cur) : undefined;
    const written = async function* () {
      for (const h of old) yield* new LineReader(h).entries();
      if (reader) yield* reader.entries();
    };
    if (opts.tail === undefined) yield* pass(written());
    else if (opts.tail > 0) {
      // newest file first, older ones only while the tail is not full: a short tail of a long rotated log
      // reads the current file alone; at most twice `tail` entries are held per file
      const tail = opts.tail;
      const lastOf = async (r: LineReader) => {
        let last: LogEntry[] = [];
        for await (const e of r.entries()) { last.push(e); if (last.length >= 2 * tail) last = last.slice(-tail); }
        return last;
      };
      let got = reader ? (await lastOf(reader)).slice(-tail) : [];
      for (let i = old.length - 1; i >= 0 && got.length < tail; i--) got = [...(await lastOf(new LineReader(old[i]!))).slice(-(tail - got.length)), ...got];
      yield* pass(got);
    } else if (reader) for await (const e of reader.entries()) void e; // skip to the end, where a follow starts
    if (stopped || !opts.follow) return;
    let r = reader;
    // the file read last: a follow goes on with the files after it
    let lastIno = r ? (await r.fh.stat()).ino : old.length ? (await old[old.length - 1]!.stat()).ino : undefined;
    for (let last = false; !last;) {
      last = !!opts.signal?.aborted;
      if (!last && !dirty) await new Promise<void>((res) => { wake = res; setTimeout(res, 1000).unref(); });
      wake = undefined;
      dirty = false;
      if (r) yield* pass(r.entries());
      if (stopped) return;
      // rotated (LOG is a new file): finish the old one, then every file after it from its beginning
      const st = await fs.promises.stat(file).catch(() => undefined);
      if (st && st.ino !== lastIno) {
        if (r) yield* pass(r.entries());
        if (stopped) return;
        const next = await filesAfter(file, lastIno);
        for (const h of next) handles.add(h);
        for (const h of next) {
          if (r) { handles.delete(r.fh); await r.fh.close(); } // done with it: a long follow holds one file
          r = new LineReader(h);
          lastIno = (await h.stat()).ino;
          yield* pass(r.entries());
          if (stopped) return;
        }
      }
    }
  } finally {
    watcher?.close();
    opts.signal?.removeEventListener('abort', notify);
    for (const h of handles) await h?.close();
  }
}

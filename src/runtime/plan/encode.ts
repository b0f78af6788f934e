// plan/encode: turns a list of ops into the flat records berth-helper reads. Pure.
import { BerthError } from '../../errors.js';
import { OPS, type FieldKind, type OpName } from './tags.js';

type Value = number | bigint | string | Buffer | number[] | string[];
/** One op: its name, its fields by name, and the spec field it came from (for error messages). */
export interface Op { op: OpName; args?: Record<string, Value>; from?: string }

const layouts = new Map<OpName, Array<[FieldKind, string]>>();
function layout(name: OpName): Array<[FieldKind, string]> {
  let l = layouts.get(name);
  if (!l) {
    const spec = OPS[name][1] as string;
    l = spec === '' ? [] : spec.split(' ').map((w) => [w[0] as FieldKind, w.slice(2)]);
    layouts.set(name, l);
  }
  return l;
}

/**
 * One growing buffer for the whole plan: a start's ~90 ops are ~500 fields, and a Buffer (an
 * ArrayBuffer of its own) per field plus the concats cost a start ~1-2 ms of the daemon's time.
 */
class Writer {
  buf = Buffer.allocUnsafe(8192);
  n = 0;
  room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(b, 0, 0, this.n);
    this.buf = b;
  }
  u32(v: number): void { this.room(4); this.buf.writeUInt32LE(v >>> 0, this.n); this.n += 4; }
  i32(v: number): void { this.room(4); this.buf.writeInt32LE(v, this.n); this.n += 4; }
  u64(v: bigint): void { this.room(8); this.buf.writeBigUInt64LE(v, this.n); this.n += 8; }
  bytes(b: Buffer): void { this.room(b.length); b.copy(this.buf, this.n); this.n += b.length; }
  str(s: string, where: string): void {
    if (s.includes('\0')) throw new BerthError('InvalidArgument', `${where}: string contains a NUL byte`);
    const k = Buffer.byteLength(s, 'utf8');
    this.room(k + 1);
    this.n += this.buf.write(s, this.n, 'utf8');
    this.buf[this.n++] = 0;
  }
}

export function encodePlan(ops: Op[]): Buffer {
  const w = new Writer();
  for (const o of ops) {
    w.u32(OPS[o.op][0]);
    const at = w.n;
    w.u32(0); // the body's length, filled in below
    encodeFields(w, o);
    w.buf.writeUInt32LE(w.n - at - 4, at);
  }
  return w.buf.subarray(0, w.n);
}

function encodeFields(w: Writer, o: Op): void {
  for (const [kind, name] of layout(o.op)) {
    const v = o.args?.[name];
    if (v === undefined) throw new BerthError('Internal', `plan op ${o.op}: missing field ${name}`);
    encodeField(w, kind, v, `${o.op}.${name}`);
  }
}

function encodeField(w: Writer, kind: FieldKind, v: Value, where: string): void {
  switch (kind) {
    case 'u': w.u32(Number(v)); return;
    case 'i': w.i32(Number(v)); return;
    case 'U': w.u64(BigInt.asUintN(64, BigInt(v as number | bigint))); return;
    case 's': w.str(String(v), where); return;
    case 'b': { const data = v as Buffer; w.u32(data.length); w.bytes(data); return; }
    case 'r': w.bytes(v as Buffer); return;
    case 'g': { const list = v as number[]; w.u32(list.length); for (const g of list) w.u32(g); return; }
    case 'v': { const list = v as string[]; w.u32(list.length); for (const s of list) w.str(s, where); return; }
  }
}

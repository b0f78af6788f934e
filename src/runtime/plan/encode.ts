// plan/encode: turns a list of ops into the flat records berth-helper reads. Pure.
import { BerthError } from '../../errors.js';
import { OPS, type FieldKind, type OpName } from './tags.js';

type Value = number | bigint | string | Buffer | number[] | string[];
/** One op: its name, its fields by name, and the spec field it came from (for error messages). */
export interface Op { op: OpName; args?: Record<string, Value>; from?: string }

const layouts = new Map<OpName, { kinds: FieldKind[]; names: string[] }>();
function layout(name: OpName): { kinds: FieldKind[]; names: string[] } {
  let l = layouts.get(name);
  if (!l) {
    const spec = OPS[name][1] as string;
    const words = spec === '' ? [] : spec.split(' ');
    l = { kinds: words.map((w) => w[0] as FieldKind), names: words.map((w) => w.slice(2)) };
    layouts.set(name, l);
  }
  return l;
}

/**
 * One growing buffer for the whole plan: a start's ~90 ops are ~500 fields, and a Buffer (an
 * ArrayBuffer of its own) per field plus the concats cost a start ~1-2 ms of the daemon's time.
 * Numbers go in byte by byte, not through Buffer's writeUInt32LE and kin: in a cold `berth runtime run`
 * each of those is Node code compiled at its first call and run in the interpreter with its argument
 * checks (BERTH_DEBUG's CPU column and a CPU profile: encoding a 78-op plan took ~2.5 ms of CPU, issue 13).
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
  /** v as 4 bytes, little-endian: a u32, or an i32 in two's complement */
  u32(v: number): void {
    this.room(4);
    const b = this.buf, n = this.n;
    b[n] = v & 0xff; b[n + 1] = (v >>> 8) & 0xff; b[n + 2] = (v >>> 16) & 0xff; b[n + 3] = (v >>> 24) & 0xff;
    this.n = n + 4;
  }
  u64(v: bigint): void {
    this.u32(Number(v & 0xffffffffn));
    this.u32(Number(v >> 32n));
  }
  bytes(b: Buffer): void { this.room(b.length); b.copy(this.buf, this.n); this.n += b.length; }
  str(s: string, op: string, name: string): void {
    if (s.includes('\0')) throw new BerthError('InvalidArgument', `${op}.${name}: string contains a NUL byte`);
    this.room(s.length * 3 + 1); // UTF-8 takes at most 3 bytes per UTF-16 unit
    // utf8Write is what write(s, offset) calls after its argument checks (an args array and a range check
    // per call, the room is ours already): ~25% of encoding a start's plan (~200 -> ~150 us, 3000 plans)
    this.n += (this.buf as Buffer & { utf8Write(s: string, offset: number): number }).utf8Write(s, this.n);
    this.buf[this.n++] = 0;
  }
}

export function encodePlan(ops: Op[]): Buffer {
  const w = new Writer();
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]!;
    w.u32(OPS[o.op][0]);
    const at = w.n;
    w.u32(0); // the body's length, filled in below
    encodeFields(w, o);
    const len = w.n - at - 4;
    const n = w.n;
    w.n = at;
    w.u32(len);
    w.n = n;
  }
  return w.buf.subarray(0, w.n);
}

function encodeFields(w: Writer, o: Op): void {
  const { kinds, names } = layout(o.op);
  for (let i = 0; i < kinds.length; i++) {
    const name = names[i]!;
    const v = o.args?.[name];
    if (v === undefined) throw new BerthError('Internal', `plan op ${o.op}: missing field ${name}`);
    encodeField(w, kinds[i]!, v, o.op, name);
  }
}

function encodeField(w: Writer, kind: FieldKind, v: Value, op: string, name: string): void {
  switch (kind) {
    case 'u': w.u32(Number(v)); return;
    case 'i': {
      const n = Number(v);
      if (n < -0x80000000 || n > 0x7fffffff) throw new BerthError('Internal', `plan op ${op}: ${name} ${n} is out of the i32 range`);
      w.u32(n);
      return;
    }
    case 'U': w.u64(BigInt.asUintN(64, BigInt(v as number | bigint))); return;
    case 's': w.str(String(v), op, name); return;
    case 'b': { const data = v as Buffer; w.u32(data.length); w.bytes(data); return; }
    case 'r': w.bytes(v as Buffer); return;
    case 'g': { const list = v as number[]; w.u32(list.length); for (let i = 0; i < list.length; i++) w.u32(list[i]!); return; }
    case 'v': { const list = v as string[]; w.u32(list.length); for (let i = 0; i < list.length; i++) w.str(list[i]!, op, name); return; }
  }
}

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

export function encodePlan(ops: Op[]): Buffer {
  const parts: Buffer[] = [];
  for (const o of ops) {
    const body = encodeFields(o);
    const hdr = Buffer.alloc(8);
    hdr.writeUInt32LE(OPS[o.op][0], 0);
    hdr.writeUInt32LE(body.length, 4);
    parts.push(hdr, body);
  }
  return Buffer.concat(parts);
}

function encodeFields(o: Op): Buffer {
  const out: Buffer[] = [];
  for (const [kind, name] of layout(o.op)) {
    const v = o.args?.[name];
    if (v === undefined) throw new BerthError('Internal', `plan op ${o.op}: missing field ${name}`);
    out.push(encodeField(kind, v, `${o.op}.${name}`));
  }
  return Buffer.concat(out);
}

function str(s: string, where: string): Buffer {
  if (s.includes('\0')) throw new BerthError('InvalidArgument', `${where}: string contains a NUL byte`);
  return Buffer.from(s + '\0', 'utf8');
}

function encodeField(kind: FieldKind, v: Value, where: string): Buffer {
  switch (kind) {
    case 'u': { const b = Buffer.alloc(4); b.writeUInt32LE(Number(v) >>> 0); return b; }
    case 'i': { const b = Buffer.alloc(4); b.writeInt32LE(Number(v)); return b; }
    case 'U': { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v as number | bigint))); return b; }
    case 's': return str(String(v), where);
    case 'b': { const data = v as Buffer; const b = Buffer.alloc(4); b.writeUInt32LE(data.length); return Buffer.concat([b, data]); }
    case 'r': return v as Buffer;
    case 'g': {
      const list = v as number[];
      const b = Buffer.alloc(4 + 4 * list.length);
      b.writeUInt32LE(list.length, 0);
      list.forEach((g, i) => b.writeUInt32LE(g >>> 0, 4 + 4 * i));
      return b;
    }
    case 'v': {
      const list = v as string[];
      const n = Buffer.alloc(4);
      n.writeUInt32LE(list.length);
      return Buffer.concat([n, ...list.map((s) => str(s, where))]);
    }
  }
}

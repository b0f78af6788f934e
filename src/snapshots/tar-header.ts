// snapshots/tar-header: the ustar/GNU/PAX header formats (POSIX pax, GNU tar manual "Basic Tar Format"). Pure.
import { BerthError } from '../errors.js';

export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** seconds since the epoch, fractional when a PAX mtime gave it */
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, Buffer>;
}

const TYPES: Record<string, EntryType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };
const FLAGS: Record<EntryType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

function cstr(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
}

/** Octal, or GNU base-256 when the high bit of the first byte is set. */
function num(b: Buffer, off: number, len: number): number {
  if (b[off]! & 0x80) {
    let v = b[off]! & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i]!;
    return v;
  }
  const s = cstr(b, off, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

export function isZeroBlock(b: Buffer, off: number): boolean {
  for (let i = off; i < off + 512; i++) if (b[i] !== 0) return false;
  return true;
}

export interface RawHeader { flag: string; h: TarHeader }

export function decodeHeader(b: Buffer, off: number): RawHeader {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : b[off + i]!;
  if (sum !== num(b, off + 148, 8)) throw new BerthError('InvalidArgument', 'invalid tar header: bad checksum');
  const flag = String.fromCharCode(b[off + 156]!);
  let name = cstr(b, off, 100);
  const magic = b.toString('latin1', off + 257, off + 263);
  if (magic.startsWith('ustar')) {
    const prefix = cstr(b, off + 345, magic === 'ustar\0' ? 155 : 0);
    if (prefix) name = `${prefix}/${name}`;
  }
  const h: TarHeader = {
    name,
    type: TYPES[flag] ?? 'file',
    mode: num(b, off + 100, 8) & 0o7777,
    uid: num(b, off + 108, 8),
    gid: num(b, off + 116, 8),
    size: num(b, off + 124, 12),
    mtime: num(b, off + 136, 12),
    linkname: cstr(b, off + 157, 100),
    uname: cstr(b, off + 265, 32),
    gname: cstr(b, off + 297, 32),
    devmajor: num(b, off + 329, 8),
    devminor: num(b, off + 337, 8),
    xattrs: {},
  };
  if (flag === '5' || (flag === '0' || flag === '\0') && name.endsWith('/')) h.type = 'dir';
  return { flag, h };
}

/** PAX records: "<len> <key>=<value>\n", values may be binary (xattrs). */
export function parsePax(b: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < b.length) {
    const sp = b.indexOf(0x20, off);
    if (sp < 0) break;
    const len = parseInt(b.toString('latin1', off, sp), 10);
    if (!(len > 0) || off + len > b.length) throw new BerthError('InvalidArgument', 'invalid tar PAX header');
    const rec = b.subarray(sp + 1, off + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq > 0) out.set(rec.toString('utf8', 0, eq), rec.subarray(eq + 1));
    off += len;
  }
  return out;
}

export function applyPax(h: TarHeader, pax: Map<string, Buffer>): void {
  for (const [k, v] of pax) {
    const s = () => v.toString('utf8');
    if (k === 'path') h.name = s();
    else if (k === 'linkpath') h.linkname = s();
    else if (k === 'size') h.size = Number(s());
    else if (k === 'uid') h.uid = Number(s());
    else if (k === 'gid') h.gid = Number(s());
    else if (k === 'mtime') h.mtime = Number(s());
    else if (k === 'uname') h.uname = s();
    else if (k === 'gname') h.gname = s();
    else if (k.startsWith('SCHILY.xattr.')) h.xattrs[k.slice(13)] = Buffer.from(v);
    else if (k.startsWith('LIBARCHIVE.xattr.')) h.xattrs[decodeURIComponent(k.slice(17))] = Buffer.from(s(), 'base64');
  }
}

function writeStr(b: Buffer, s: string, off: number, len: number): boolean {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length > len) return false;
  bytes.copy(b, off);
  return true;
}

function writeNum(b: Buffer, v: number, off: number, len: number): boolean {
  const s = Math.floor(v).toString(8);
  if (s.length > len - 1) return false;
  b.write(s.padStart(len - 1, '0') + '\0', off, 'latin1');
  return true;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function rawHeader(h: TarHeader, flag: string, pax: Buffer[] | undefined): Buffer {
  const b = Buffer.alloc(512);
  const fit = (ok: boolean, key: string, value: string) => { if (!ok) pax?.push(paxRecord(key, Buffer.from(value))); };
  fit(writeStr(b, h.name, 0, 100), 'path', h.name);
  writeNum(b, h.mode, 100, 8);
  fit(writeNum(b, h.uid, 108, 8), 'uid', String(h.uid));
  fit(writeNum(b, h.gid, 116, 8), 'gid', String(h.gid));
  fit(writeNum(b, h.size, 124, 12), 'size', String(h.size));
  fit(writeNum(b, Math.max(0, h.mtime), 136, 12), 'mtime', String(h.mtime));
  b[156] = flag.charCodeAt(0);
  fit(writeStr(b, h.linkname, 157, 100), 'linkpath', h.linkname);
  b.write('ustar\x0000', 257, 'latin1');
  writeStr(b, h.uname, 265, 32);
  writeStr(b, h.gname, 297, 32);
  writeNum(b, h.devmajor, 329, 8);
  writeNum(b, h.devminor, 337, 8);
  b.fill(32, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return b;
}

/** The header block(s) for one entry; a PAX extended header is prepended when a field does not fit. */
export function encodeHeader(h: TarHeader): Buffer {
  const pax: Buffer[] = [];
  for (const [k, v] of Object.entries(h.xattrs)) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const main = rawHeader(h, FLAGS[h.type], pax);
  if (pax.length === 0) return main;
  const data = Buffer.concat(pax);
  const ph = rawHeader({ ...h, name: `PaxHeaders/${h.name}`.slice(0, 99), type: 'file', size: data.length, linkname: '', xattrs: {} }, 'x', undefined);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([ph, data, pad, rawHeader({ ...h, name: h.name.slice(0, 99), linkname: h.linkname.slice(0, 99) }, FLAGS[h.type], undefined)]);
}

export function header(partial: Partial<TarHeader> & { name: string }): TarHeader {
  return { type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0, xattrs: {}, ...partial };
}

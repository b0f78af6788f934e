// runtime/seccomp-cache: compiled seccomp filters kept on disk by profile, for the cold `berth runtime`
// process, which cannot keep them in memory as berthd does: compiling docker's default profile in a fresh
// process costs ~40-50 ms on a loaded 2-core host, plus loading the compiler (issue 13).
// A file holds the profile's JSON beside its filter and serves only a profile whose JSON is the same, so
// two profiles that share a file name (a cheap hash) cost a compile, never a wrong filter.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxSeccomp } from './spec-types.js';
import { replaceFileSync } from '../util/fs.js';

export interface CompiledFilter { filter: Buffer; flags: number }

/** The cache's place under a runtime state root: '@' is not allowed in container ids, so no id meets it. */
export const seccompCacheDir = (stateRoot: string): string => path.join(stateRoot, '@seccomp');

/** FNV-1a (32 bits) of the profile's JSON: it only names the file. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

// file: u32 key length, u32 flags, the key (UTF-8), the filter (8-byte BPF instructions)
function encode(key: string, c: CompiledFilter): Buffer {
  const k = Buffer.from(key);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(k.length, 0);
  head.writeUInt32LE(c.flags, 4);
  return Buffer.concat([head, k, c.filter]);
}

function decode(b: Buffer, key: string): CompiledFilter | undefined {
  if (b.length < 8) return undefined;
  const len = b.readUInt32LE(0);
  const filter = b.subarray(8 + len);
  if (8 + len > b.length || filter.length === 0 || filter.length % 8 !== 0) return undefined;
  if (b.toString('utf8', 8, 8 + len) !== key) return undefined;
  return { filter: Buffer.from(filter), flags: b.readUInt32LE(4) };
}

/** The profile compiled, from `dir` when it holds it, else compiled and kept there (no dir: compiled only). */
export async function compileSeccompCached(s: LinuxSeccomp, dir?: string): Promise<CompiledFilter> {
  const compile = async (): Promise<CompiledFilter> => (await import('./seccomp/index.js')).compileSeccomp(s);
  if (!dir) return compile();
  const key = JSON.stringify(s);
  const file = path.join(dir, `${fnv1a(key)}.bpf`);
  let hit: CompiledFilter | undefined;
  try { hit = decode(fs.readFileSync(file), key); } catch { /* none yet, or unreadable: compile */ }
  if (hit) return hit;
  const out = await compile();
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    replaceFileSync(file, encode(key, out), 0o600);
  } catch { /* only a cache: the next start compiles again */ }
  return out;
}

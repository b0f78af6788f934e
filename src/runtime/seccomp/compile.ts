// Compiles an OCI seccomp object (runtime-spec config-linux.md "Seccomp") into a classic BPF
// program for seccomp(SECCOMP_SET_MODE_FILTER). Pure: the helper only loads the bytes.
import { BerthError } from '../../errors.js';
import type { LinuxSeccomp, SeccompArg, SeccompSyscall } from '../spec-types.js';
import {
  SYSCALLS_AARCH64,
  SYSCALLS_ARM,
  SYSCALLS_X32,
  SYSCALLS_X86,
  SYSCALLS_X86_64,
  type SyscallTable,
} from './syscalls.js';

// <linux/seccomp.h> return values; the low 16 bits carry errno / the trace value.
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

// <linux/audit.h>: the value the kernel puts in seccomp_data.arch.
export const AUDIT_ARCH = {
  X86_64: 0xc000003e,
  I386: 0x40000003,
  AARCH64: 0xc00000b7,
  ARM: 0x40000028,
} as const;

export const SECCOMP_FILTER_FLAG = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
} as const;

/** x32 syscalls run under AUDIT_ARCH_X86_64 with this bit set in the syscall number. */
export const X32_SYSCALL_BIT = 0x40000000;
export const ENOSYS = 38;
const EPERM = 1;

/**
 * What a process of an architecture not in the filter gets. libseccomp's default bad-arch action
 * is SCMP_ACT_KILL (src/db.c, act_badarch) and runc never changes it, so: kill the thread.
 */
export const BAD_ARCH_ACTION = SECCOMP_RET.KILL_THREAD;

// classic BPF opcodes (<linux/filter.h>)
const BPF_LD_W_ABS = 0x20;
const BPF_ALU_AND_K = 0x54;
const BPF_JMP_JA = 0x05;
const BPF_JEQ = 0x15;
const BPF_JGT = 0x25;
const BPF_JGE = 0x35;
const BPF_JSET = 0x45;
const BPF_RET_K = 0x06;
const BPF_MAXINSNS = 4096;

// struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6] (little-endian arches only)
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLo = (i: number): number => 16 + 8 * i;
const argHi = (i: number): number => 16 + 8 * i + 4;

interface Abi {
  name: string;
  audit: number;
  table: SyscallTable;
  /** libseccomp compares only the low 32 bits of arguments on 32-bit ABIs (db.c _db_rule_gen_32). */
  args64: boolean;
  x32?: boolean;
}

const ABIS: Record<string, Abi> = {
  SCMP_ARCH_X86_64: { name: 'x86_64', audit: AUDIT_ARCH.X86_64, table: SYSCALLS_X86_64, args64: true },
  SCMP_ARCH_X86: { name: 'x86', audit: AUDIT_ARCH.I386, table: SYSCALLS_X86, args64: false },
  SCMP_ARCH_X32: { name: 'x32', audit: AUDIT_ARCH.X86_64, table: SYSCALLS_X32, args64: false, x32: true },
  SCMP_ARCH_AARCH64: { name: 'aarch64', audit: AUDIT_ARCH.AARCH64, table: SYSCALLS_AARCH64, args64: true },
  SCMP_ARCH_ARM: { name: 'arm', audit: AUDIT_ARCH.ARM, table: SYSCALLS_ARM, args64: false },
};

// Architectures runtime-spec/libseccomp know but Berth has no table for: accepted (Docker lists
// them in archMap), left out of the filter, so such processes get BAD_ARCH_ACTION.
const KNOWN_WITHOUT_TABLE = new Set([
  'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
]);

const NATIVE: Record<'x86_64' | 'aarch64', string> = { x86_64: 'SCMP_ARCH_X86_64', aarch64: 'SCMP_ARCH_AARCH64' };

export interface CompileOptions {
  /** Architecture of the host; libseccomp always puts the native arch in a filter. Default: process.arch. */
  nativeArch?: 'x86_64' | 'aarch64';
}

export interface CompiledSeccomp {
  /** struct sock_filter[]: u16 code, u8 jt, u8 jf, u32 k, little-endian, 8 bytes each. */
  filter: Buffer;
  /** SECCOMP_FILTER_FLAG_* bits for seccomp(2). */
  flags: number;
}

// ---------------------------------------------------------------------------------------------
// Validation: every name becomes a number here, with the field path in the error.

type Action = { kind: string; ret: number };

function parseAction(name: unknown, errnoRet: number | undefined, path: string, errPath: string): Action {
  const data = (dflt: number): number => {
    if (errnoRet === undefined) return dflt;
    if (!Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > 0xffff) {
      throw new BerthError('InvalidArgument', `${errPath}: must be an integer 0..65535, got ${String(errnoRet)}`);
    }
    return errnoRet;
  };
  switch (name) {
    case 'SCMP_ACT_KILL': // libseccomp: SCMP_ACT_KILL == SCMP_ACT_KILL_THREAD
    case 'SCMP_ACT_KILL_THREAD':
      return { kind: name, ret: SECCOMP_RET.KILL_THREAD };
    case 'SCMP_ACT_KILL_PROCESS':
      return { kind: name, ret: SECCOMP_RET.KILL_PROCESS };
    case 'SCMP_ACT_TRAP':
      return { kind: name, ret: SECCOMP_RET.TRAP };
    case 'SCMP_ACT_ERRNO':
      return { kind: name, ret: (SECCOMP_RET.ERRNO | data(EPERM)) >>> 0 };
    case 'SCMP_ACT_TRACE': // runc: default trace value is EPERM, like ERRNO
      return { kind: name, ret: (SECCOMP_RET.TRACE | data(EPERM)) >>> 0 };
    case 'SCMP_ACT_ALLOW':
      return { kind: name, ret: SECCOMP_RET.ALLOW };
    case 'SCMP_ACT_LOG':
      return { kind: name, ret: SECCOMP_RET.LOG };
    case 'SCMP_ACT_NOTIFY':
      throw new BerthError('NotImplemented', `${path}: SCMP_ACT_NOTIFY is not supported by berth (no seccomp agent)`);
    default:
      throw new BerthError('InvalidArgument', `${path}: unknown action ${JSON.stringify(name)}`);
  }
}

const OPS = new Set(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']);

interface Cond { index: number; op: string; value: bigint; valueTwo: bigint }
interface Rule { action: Action; conds: Cond[] }

function toU64(v: unknown, path: string): bigint {
  // JSON numbers above 2^53 have already lost precision before they get here.
  if (typeof v === 'bigint' && v >= 0n && v < 1n << 64n) return v;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 64) return BigInt(v);
  throw new BerthError('InvalidArgument', `${path}: must be an unsigned 64-bit integer, got ${String(v)}`);
}

function parseArg(a: SeccompArg, path: string): Cond {
  if (a === null || typeof a !== 'object') throw new BerthError('InvalidArgument', `${path}: must be an object`);
  if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) {
    throw new BerthError('InvalidArgument', `${path}.index: must be 0..5, got ${String(a.index)}`);
  }
  if (!OPS.has(a.op)) throw new BerthError('InvalidArgument', `${path}.op: unknown operator ${JSON.stringify(a.op)}`);
  return {
    index: a.index,
    op: a.op,
    value: toU64(a.value, `${path}.value`),
    valueTwo: a.valueTwo === undefined ? 0n : toU64(a.valueTwo, `${path}.valueTwo`),
  };
}

interface Parsed { defaultAction: Action; arches: Abi[]; flags: number; entries: { names: string[]; rules: Rule[] }[] }

function parse(s: LinuxSeccomp, opts: CompileOptions): Parsed {
  const P = 'linux.seccomp';
  if (s === null || typeof s !== 'object') throw new BerthError('InvalidArgument', `${P}: must be an object`);
  if (s.listenerPath) throw new BerthError('NotImplemented', `${P}.listenerPath: seccomp notify agents are not supported by berth`);
  const defaultAction = parseAction(s.defaultAction, s.defaultErrnoRet, `${P}.defaultAction`, `${P}.defaultErrnoRet`);

  let flags = 0;
  (s.flags ?? []).forEach((f, i) => {
    const bit = (SECCOMP_FILTER_FLAG as Record<string, number>)[f];
    if (bit === undefined) throw new BerthError('InvalidArgument', `${P}.flags[${i}]: unknown flag ${JSON.stringify(f)}`);
    flags |= bit;
  });

  const native = opts.nativeArch ?? (process.arch === 'arm64' ? 'aarch64' : 'x86_64');
  const archNames = [NATIVE[native]];
  (s.architectures ?? []).forEach((a, i) => {
    if (!(a in ABIS) && !KNOWN_WITHOUT_TABLE.has(a)) {
      throw new BerthError('InvalidArgument', `${P}.architectures[${i}]: unknown architecture ${JSON.stringify(a)}`);
    }
    if (!archNames.includes(a)) archNames.push(a);
  });
  const arches = archNames.filter((a) => a in ABIS).map((a) => ABIS[a]!);

  const entries = (s.syscalls ?? []).map((sc: SeccompSyscall, i) => {
    const path = `${P}.syscalls[${i}]`;
    if (!Array.isArray(sc.names) || sc.names.length === 0) throw new BerthError('InvalidArgument', `${path}.names: must list at least one syscall`);
    sc.names.forEach((n, j) => {
      if (typeof n !== 'string' || n === '') throw new BerthError('InvalidArgument', `${path}.names[${j}]: must be a syscall name`);
    });
    const action = parseAction(sc.action, sc.errnoRet, `${path}.action`, `${path}.errnoRet`);
    const conds = (sc.args ?? []).map((a, j) => parseArg(a, `${path}.args[${j}]`));
    // runc and crun: when one argument index appears twice, each condition becomes its own rule
    // (ORed) instead of one ANDed rule; libseccomp cannot AND two conditions on one argument.
    const seen = new Set<number>();
    const repeated = conds.some((c) => seen.size === seen.add(c.index).size);
    const rules = repeated ? conds.map((c) => ({ action, conds: [c] })) : [{ action, conds }];
    return { names: sc.names, rules };
  });
  return { defaultAction, arches, flags, entries };
}

// ---------------------------------------------------------------------------------------------
// A tiny assembler: forward labels, and conditional jumps that grow a JA trampoline when their
// 8-bit offset does not reach (JA has a 32-bit k), repeated until every jump fits.

interface Label { at?: Insn }
interface Insn { code: number; k: number; jt?: Label | undefined; jf?: Label | undefined; target?: Label }

class Asm {
  readonly insns: Insn[] = [];
  private pending: Label[] = [];

  label(): Label { return {}; }
  bind(l: Label): void { this.pending.push(l); }
  private emit(i: Insn): void {
    for (const l of this.pending) l.at = i;
    this.pending = [];
    this.insns.push(i);
  }
  ld(off: number): void { this.emit({ code: BPF_LD_W_ABS, k: off }); }
  and(k: number): void { this.emit({ code: BPF_ALU_AND_K, k }); }
  ret(k: number): void { this.emit({ code: BPF_RET_K, k }); }
  ja(l: Label): void { this.emit({ code: BPF_JMP_JA, k: 0, target: l }); }
  /** Conditional jump; an omitted side falls through to the next instruction. */
  j(code: number, k: number, jt?: Label, jf?: Label): void {
    // Fall-through is a label on the next instruction, so it survives trampolines inserted in between.
    const next = jt && jf ? undefined : this.label();
    this.emit({ code, k: k >>> 0, jt: jt ?? next, jf: jf ?? next });
    if (next) this.bind(next);
  }

  assemble(): Buffer {
    if (this.pending.length) throw new BerthError('Internal', 'seccomp: label bound past the end of the program');
    const insns = this.insns;
    for (;;) {
      const pos = new Map<Insn, number>();
      insns.forEach((x, n) => pos.set(x, n));
      const dist = (from: number, l: Label): number => {
        const t = l.at === undefined ? undefined : pos.get(l.at);
        if (t === undefined || t <= from) throw new BerthError('Internal', 'seccomp: unbound or backward jump');
        return t - from - 1;
      };
      const grow: { n: number; tramps: Insn[] }[] = [];
      insns.forEach((x, n) => {
        const tramps: Insn[] = [];
        for (const side of ['jt', 'jf'] as const) {
          const l = x[side];
          if (l && dist(n, l) > 255) {
            const t: Insn = { code: BPF_JMP_JA, k: 0, target: l };
            tramps.push(t);
            x[side] = { at: t };
          }
        }
        if (tramps.length) grow.push({ n, tramps });
      });
      if (grow.length === 0) {
        if (insns.length > BPF_MAXINSNS) {
          throw new BerthError('InvalidArgument', `linux.seccomp: profile compiles to ${insns.length} BPF instructions, the kernel allows ${BPF_MAXINSNS}`);
        }
        const buf = Buffer.alloc(insns.length * 8);
        insns.forEach((x, n) => {
          let k = x.k;
          let jt = 0;
          let jf = 0;
          if (x.target) k = dist(n, x.target);
          if (x.jt) jt = dist(n, x.jt);
          if (x.jf) jf = dist(n, x.jf);
          buf.writeUInt16LE(x.code, n * 8);
          buf.writeUInt8(jt, n * 8 + 2);
          buf.writeUInt8(jf, n * 8 + 3);
          buf.writeUInt32LE(k >>> 0, n * 8 + 4);
        });
        return buf;
      }
      for (const g of grow.reverse()) insns.splice(g.n + 1, 0, ...g.tramps);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Code generation.

const lo32 = (v: bigint): number => Number(v & 0xffffffffn);
const hi32 = (v: bigint): number => Number((v >> 32n) & 0xffffffffn);

/** One argument condition: jump to `pass` or `fail`. */
function emitCond(a: Asm, c: Cond, args64: boolean, pass: Label, fail: Label): void {
  let { op } = c;
  let [t, f] = [pass, fail];
  // NE, LT, LE are the negations of EQ, GE, GT (libseccomp rewrites them the same way).
  if (op === 'SCMP_CMP_NE') [op, t, f] = ['SCMP_CMP_EQ', fail, pass];
  if (op === 'SCMP_CMP_LT') [op, t, f] = ['SCMP_CMP_GE', fail, pass];
  if (op === 'SCMP_CMP_LE') [op, t, f] = ['SCMP_CMP_GT', fail, pass];
  const masked = op === 'SCMP_CMP_MASKED_EQ';
  const v = masked ? c.valueTwo : c.value; // runtime-spec: (arg & value) == valueTwo
  const m = c.value;
  if (args64) {
    // High words first; only when they are equal does the low word decide.
    a.ld(argHi(c.index));
    if (masked) a.and(hi32(m));
    if (op === 'SCMP_CMP_GT' || op === 'SCMP_CMP_GE') a.j(BPF_JGT, hi32(v), t);
    a.j(BPF_JEQ, hi32(v), undefined, f);
  }
  a.ld(argLo(c.index));
  if (masked) a.and(lo32(m));
  const code = op === 'SCMP_CMP_GT' ? BPF_JGT : op === 'SCMP_CMP_GE' ? BPF_JGE : BPF_JEQ;
  a.j(code, lo32(v), t, f);
}

type Outcome = { ret: number } | { body: Rule[] };

/**
 * One ABI (x86_64, x32, i386, ...) once the arch is known: the syscall number is in A.
 * Syscall numbers are cut into intervals of equal outcome and found by binary search (what
 * libseccomp's optimize=2, which runc enables, does with a syscall tree).
 */
function emitAbi(a: Asm, abi: Abi, p: Parsed): void {
  const dflt = p.defaultAction.ret;
  const perNr = new Map<number, Rule[]>();
  let maxNr = -1;
  for (const e of p.entries) {
    for (const name of e.names) {
      const nr = abi.table[name];
      if (nr === undefined) continue; // unknown on this arch: skipped, as libseccomp does
      maxNr = Math.max(maxNr, nr);
      // runc skips rules whose action is the default action (seccomp_linux.go matchCall).
      // (an alias in the same entry, e.g. arm sync_file_range2, must not repeat the rules)
      const rules = perNr.get(nr) ?? [];
      for (const r of e.rules) if (r.action.ret !== dflt && !rules.includes(r)) rules.push(r);
      if (rules.length) perNr.set(nr, rules);
    }
  }

  // runc's -ENOSYS stub (libcontainer/seccomp/patchbpf): syscalls numbered above the highest
  // one the profile names are newer than the profile, so they get ENOSYS and libc falls back
  // (clone3 -> clone, faccessat2 -> faccessat) instead of failing with EPERM. Not for default
  // actions that allow (ALLOW, LOG, TRACE), nor when the default already is ENOSYS.
  const d = p.defaultAction.kind;
  const useEnosys = maxNr >= 0 && !['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(d) && dflt !== (SECCOMP_RET.ERRNO | ENOSYS);
  const enosys = (SECCOMP_RET.ERRNO | ENOSYS) >>> 0;

  const outcomeOf = (rules: Rule[]): Outcome => {
    // First listed rule wins; an unconditional rule ends the list.
    const cut = rules.findIndex((r) => r.conds.length === 0);
    const list = cut < 0 ? rules : rules.slice(0, cut + 1);
    return list.length === 1 && list[0]!.conds.length === 0 ? { ret: list[0]!.action.ret } : { body: list };
  };

  // intervals [start, next start) of one outcome, covering 0..2^32-1
  const segs: { start: number; out: Outcome }[] = [];
  const push = (start: number, out: Outcome): void => {
    if (segs[segs.length - 1]?.start === start) segs.pop();
    const prev = segs[segs.length - 1]?.out;
    if (prev && 'ret' in prev && 'ret' in out && prev.ret === out.ret) return;
    segs.push({ start, out });
  };
  push(0, { ret: dflt });
  for (const nr of [...perNr.keys()].sort((x, y) => x - y)) {
    push(nr, outcomeOf(perNr.get(nr)!));
    push(nr + 1, { ret: dflt });
  }
  if (useEnosys) push(maxNr + 1, { ret: enosys });

  const retLabels = new Map<number, Label>();
  const bodies: { l: Label; rules: Rule[] }[] = [];
  const labelOf = (o: Outcome): Label => {
    if ('ret' in o) {
      let l = retLabels.get(o.ret);
      if (!l) retLabels.set(o.ret, (l = a.label()));
      return l;
    }
    const l = a.label();
    bodies.push({ l, rules: o.body });
    return l;
  };
  const segLabels = segs.map((s) => labelOf(s.out));

  // binary search, pre-order: the "below" half falls through, the "at or above" half jumps
  const tree = (lo: number, hi: number, entry?: Label): void => {
    if (entry) a.bind(entry);
    if (lo === hi) return;
    const mid = (lo + hi + 1) >> 1;
    const left = lo === mid - 1 ? segLabels[lo]! : undefined;
    const right = mid === hi ? segLabels[hi]! : a.label();
    a.j(BPF_JGE, segs[mid]!.start, right, left);
    if (!left) tree(lo, mid - 1);
    if (mid !== hi) tree(mid, hi, right);
  };
  if (segs.length === 1) a.ja(segLabels[0]!);
  else tree(0, segs.length - 1);

  for (const [ret, l] of retLabels) {
    a.bind(l);
    a.ret(ret);
  }
  for (const b of bodies) {
    a.bind(b.l);
    for (const r of b.rules) {
      const next = a.label();
      r.conds.forEach((c, n) => {
        const pass = a.label();
        emitCond(a, c, abi.args64, pass, next);
        a.bind(pass);
      });
      a.ret(r.action.ret);
      a.bind(next);
    }
    a.ret(dflt);
  }
}

/**
 * Compile an OCI seccomp object to classic BPF. Layout: load seccomp_data.arch and dispatch to
 * one section per AUDIT_ARCH (others: BAD_ARCH_ACTION); each section loads the syscall number
 * and binary-searches it. When several rules name one syscall the first listed rule that
 * matches wins (libseccomp instead lets an unconditional rule override conditional ones).
 */
export function compileSeccomp(s: LinuxSeccomp, opts: CompileOptions = {}): CompiledSeccomp {
  // every exec of a container compiles the same profile: 10-40 ms of the daemon's thread per exec on a
  // busy host (--cpu-prof of berthd over docker exec); its JSON is the key (~0.1 ms)
  // a frozen profile (docker's default, shared by every start) is its own key: no JSON of it either
  const byObject = Object.isFrozen(s) && Object.keys(opts).length === 0;
  const key = byObject ? undefined : JSON.stringify([s, opts]);
  const hit = key === undefined ? compiledFrozen.get(s) : compiled.get(key);
  if (hit) return { ...hit, filter: Buffer.from(hit.filter) };
  const out = compileUncached(s, opts);
  if (key === undefined) compiledFrozen.set(s, { ...out, filter: Buffer.from(out.filter) });
  else {
    if (compiled.size >= 16) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, { ...out, filter: Buffer.from(out.filter) });
  }
  return out;
}
const compiled = new Map<string, CompiledSeccomp>();
const compiledFrozen = new WeakMap<LinuxSeccomp, CompiledSeccomp>();

function compileUncached(s: LinuxSeccomp, opts: CompileOptions): CompiledSeccomp {
  const p = parse(s, opts);
  const a = new Asm();

  // group ABIs by AUDIT_ARCH: x86_64 and x32 share one
  const groups = new Map<number, Abi[]>();
  for (const abi of p.arches) groups.set(abi.audit, [...(groups.get(abi.audit) ?? []), abi]);
  const entries = [...groups.entries()].map(([audit, abis]) => ({ audit, abis, l: a.label() }));

  a.ld(OFF_ARCH);
  for (const g of entries) a.j(BPF_JEQ, g.audit, g.l);
  a.ret(BAD_ARCH_ACTION);

  for (const g of entries) {
    a.bind(g.l);
    a.ld(OFF_NR);
    if (g.audit === AUDIT_ARCH.X86_64) {
      // The x32 ABI is AUDIT_ARCH_X86_64 with X32_SYSCALL_BIT in nr: without this split an x32
      // process could reach x86_64 rules (libseccomp arch-x86_64/x32). A missing half is a bad arch.
      const x64 = g.abis.find((x) => !x.x32);
      const x32 = g.abis.find((x) => x.x32);
      const l32 = a.label();
      const bad = a.label();
      a.j(BPF_JSET, X32_SYSCALL_BIT, x32 ? l32 : bad, x64 ? undefined : bad);
      if (x64) emitAbi(a, x64, p);
      if (x32) {
        a.bind(l32);
        emitAbi(a, x32, p);
      }
      if (!x64 || !x32) {
        a.bind(bad);
        a.ret(BAD_ARCH_ACTION);
      }
    } else {
      emitAbi(a, g.abis[0]!, p);
    }
  }
  return { filter: a.assemble(), flags: p.flags };
}


// A tiny classic-BPF interpreter for seccomp filters (the subset the kernel's seccomp checker
// accepts: absolute word loads from struct seccomp_data, ALU, jumps, RET). Tests only.

export interface SockFilter { code: number; jt: number; jf: number; k: number }

export interface SeccompData {
  nr: number;
  arch: number;
  ip?: bigint;
  /** up to six u64 arguments */
  args?: (bigint | number)[];
}

export function decode(filter: Buffer): SockFilter[] {
  if (filter.length % 8 !== 0) throw new Error(`filter length ${filter.length} is not a multiple of 8`);
  const out: SockFilter[] = [];
  for (let o = 0; o < filter.length; o += 8) {
    out.push({ code: filter.readUInt16LE(o), jt: filter.readUInt8(o + 2), jf: filter.readUInt8(o + 3), k: filter.readUInt32LE(o + 4) });
  }
  return out;
}

export function seccompData(d: SeccompData): Buffer {
  const b = Buffer.alloc(64);
  b.writeInt32LE(d.nr | 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  b.writeBigUInt64LE(d.ip ?? 0n, 8);
  (d.args ?? []).forEach((a, i) => b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), 16 + 8 * i));
  return b;
}

/** Checks what the kernel's seccomp_check_filter/bpf_check_classic would: forward jumps in range, last insn RET. */
export function verify(prog: SockFilter[]): void {
  if (prog.length === 0 || prog.length > 4096) throw new Error(`bad program length ${prog.length}`);
  prog.forEach((x, pc) => {
    const cls = x.code & 0x07;
    if (cls === 0x05) {
      const op = x.code & 0xf0;
      const targets = op === 0x00 ? [x.k] : [x.jt, x.jf];
      for (const t of targets) if (pc + 1 + t >= prog.length) throw new Error(`jump out of range at ${pc}`);
    }
    if (cls === 0x00 && (x.code !== 0x20 || x.k % 4 !== 0 || x.k >= 64)) throw new Error(`bad load at ${pc}`);
  });
  if ((prog[prog.length - 1]!.code & 0x07) !== 0x06) throw new Error('last instruction is not RET');
}

export function run(filter: Buffer | SockFilter[], d: SeccompData): number {
  const prog = Buffer.isBuffer(filter) ? decode(filter) : filter;
  const data = seccompData(d);
  let A = 0;
  let X = 0;
  for (let pc = 0, steps = 0; pc < prog.length; pc++, steps++) {
    if (steps > 100000) throw new Error('runaway program');
    const { code, jt, jf, k } = prog[pc]!;
    switch (code) {
      case 0x20: A = data.readUInt32LE(k); break; // ld [k]
      case 0x00: A = k >>> 0; break; // ld #k
      case 0x01: X = k >>> 0; break; // ldx #k
      case 0x54: A = (A & k) >>> 0; break; // and #k
      case 0x44: A = (A | k) >>> 0; break; // or #k
      case 0x04: A = (A + k) >>> 0; break; // add #k
      case 0x05: pc += k; break; // ja
      case 0x15: pc += A === k ? jt : jf; break; // jeq #k
      case 0x25: pc += A > k ? jt : jf; break; // jgt #k
      case 0x35: pc += A >= k ? jt : jf; break; // jge #k
      case 0x45: pc += (A & k) !== 0 ? jt : jf; break; // jset #k
      case 0x06: return k >>> 0; // ret #k
      case 0x16: return A >>> 0; // ret a
      case 0x07: X = A; break; // tax
      case 0x87: A = X; break; // txa
      default: throw new Error(`unsupported opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('fell off the end of the program');
}

// cgroups/device-bpf: device rules -> an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE, the way
// cgroup v2 enforces them (there is no devices.allow file). Pure; the helper loads and attaches it.
// Semantics follow v1's list (and runc's devicefilter): the last rule that matches decides;
// with no match the device is denied.
import type { DeviceRule } from './devices.js';

// include/uapi/linux/bpf.h
const BPF_DEVCG_DEV_BLOCK = 1, BPF_DEVCG_DEV_CHAR = 2;
const ACC: Record<string, number> = { m: 1, r: 2, w: 4 }; // BPF_DEVCG_ACC_MKNOD, _READ, _WRITE

interface Insn { code: number; dst: number; src: number; off: number; imm: number }
const LDX_W = 0x61, ALU32_AND_K = 0x54, ALU32_RSH_K = 0x74, MOV64_X = 0xbf, MOV64_K = 0xb7, JNE_K = 0x55, EXIT = 0x95;

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

export function compileDeviceFilter(rules: DeviceRule[]): Buffer {
  const prog: Insn[] = [
    // struct bpf_cgroup_dev_ctx { u32 access_type /* access << 16 | type */; u32 major; u32 minor; }
    insn(LDX_W, 2, 1, 0, 0), insn(ALU32_AND_K, 2, 0, 0, 0xffff),   // r2 = type
    insn(LDX_W, 3, 1, 0, 0), insn(ALU32_RSH_K, 3, 0, 0, 16),       // r3 = access
    insn(LDX_W, 4, 1, 4, 0),                                       // r4 = major
    insn(LDX_W, 5, 1, 8, 0),                                       // r5 = minor
  ];
  let decided = false;
  for (const r of [...rules].reverse()) {
    const block: Insn[] = [];
    // each test jumps to the end of this rule's block when it fails; offsets are fixed up below
    if (r.type !== 'a') block.push(insn(JNE_K, 2, 0, -1, r.type === 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
    const mask = [...r.access].reduce((m, c) => m | ACC[c]!, 0);
    if (mask !== 7) block.push(insn(MOV64_X, 1, 3, 0, 0), insn(ALU32_AND_K, 1, 0, 0, ~mask & 7), insn(JNE_K, 1, 0, -1, 0));
    if (r.major !== -1) block.push(insn(JNE_K, 4, 0, -1, r.major));
    if (r.minor !== -1) block.push(insn(JNE_K, 5, 0, -1, r.minor));
    block.push(insn(MOV64_K, 0, 0, 0, r.allow ? 1 : 0), insn(EXIT, 0, 0, 0, 0));
    block.forEach((x, i) => { if (x.off === -1) x.off = block.length - i - 1; });
    prog.push(...block);
    // a rule with no test matches everything: what comes after it is unreachable, which the verifier refuses
    if (block.length === 2) { decided = true; break; }
  }
  if (!decided) prog.push(insn(MOV64_K, 0, 0, 0, 0), insn(EXIT, 0, 0, 0, 0));
  const out = Buffer.alloc(prog.length * 8);
  prog.forEach((x, i) => {
    out.writeUInt8(x.code, i * 8);
    out.writeUInt8((x.src << 4) | x.dst, i * 8 + 1);
    out.writeInt16LE(x.off, i * 8 + 2);
    out.writeInt32LE(x.imm | 0, i * 8 + 4);
  });
  return out;
}

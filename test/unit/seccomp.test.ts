import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../../src/errors.js';
import type { LinuxSeccomp } from '../../src/runtime/spec-types.js';
import {
  AUDIT_ARCH,
  BAD_ARCH_ACTION,
  compileSeccomp,
  dockerDefaultProfile,
  loadSeccompProfileJSON,
  SECCOMP_FILTER_FLAG,
  sharedDockerDefaultProfile,
  SECCOMP_RET,
  SYSCALLS_AARCH64,
  SYSCALLS_ARM,
  SYSCALLS_X32,
  SYSCALLS_X86,
  SYSCALLS_X86_64,
} from '../../src/runtime/seccomp/index.js';
import { decode, run, verify, type SeccompData } from '../helpers/bpf-interp.js';

// moby oci/caps/defaults.go
const DOCKER_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
const ALLOW = SECCOMP_RET.ALLOW;
const EPERM = (SECCOMP_RET.ERRNO | 1) >>> 0;
const ENOSYS = (SECCOMP_RET.ERRNO | 38) >>> 0;
const X86_64 = AUDIT_ARCH.X86_64;

const nr = (name: string, table = SYSCALLS_X86_64): number => {
  const n = table[name];
  assert.ok(n !== undefined, `no syscall ${name}`);
  return n;
};
function compiled(s: LinuxSeccomp, nativeArch: 'x86_64' | 'aarch64' = 'x86_64'): Buffer {
  const { filter } = compileSeccomp(s, { nativeArch });
  verify(decode(filter));
  return filter;
}
const call = (f: Buffer, d: SeccompData): number => run(f, d);
const x64 = (f: Buffer, name: string, ...args: (bigint | number)[]): number => call(f, { arch: X86_64, nr: nr(name), args });

function throwsBerth(fn: () => unknown, kind: string, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BerthError, String(e));
    assert.equal(e.kind, kind);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('generated syscall tables agree with known numbers', () => {
  assert.equal(SYSCALLS_X86_64.read, 0);
  assert.equal(SYSCALLS_X86_64.write, 1);
  assert.equal(SYSCALLS_X86_64.openat, 257);
  assert.equal(SYSCALLS_X86_64.clone3, 435);
  assert.equal(SYSCALLS_X86.read, 3);
  assert.equal(SYSCALLS_X86.socketcall, 102);
  assert.equal(SYSCALLS_X32.read, 0x40000000);
  assert.equal(SYSCALLS_X32.execve, 0x40000000 + 520);
  assert.equal(SYSCALLS_AARCH64.openat, 56);
  assert.equal(SYSCALLS_AARCH64.open, undefined);
  assert.equal(SYSCALLS_ARM.breakpoint, 0x0f0001);
  // newer than the 6.1 headers: shared numbering since 5.1
  assert.equal(SYSCALLS_X86_64.mseal, 462);
  assert.equal(SYSCALLS_AARCH64.cachestat, 451);
});

test('docker default profile: shape for x86_64 with default caps', () => {
  const p = dockerDefaultProfile({ capabilities: DOCKER_CAPS, arch: 'amd64' });
  assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(p.defaultErrnoRet, 1);
  assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const names = p.syscalls!.flatMap((s) => s.names);
  assert.ok(names.includes('arch_prctl') && names.includes('modify_ldt') && names.includes('chroot'));
  assert.ok(!names.includes('mount') && !names.includes('breakpoint') && !names.includes('reboot'));
  assert.deepEqual(p.syscalls!.find((s) => s.names[0] === 'clone3'), { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
  assert.deepEqual(dockerDefaultProfile({ capabilities: [], arch: 'x86_64' }).architectures, p.architectures);
  assert.deepEqual(dockerDefaultProfile({ capabilities: [], arch: 'aarch64' }).architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
});

test('docker default profile on x86_64: allow, deny, ENOSYS, bad arch, x32', () => {
  const f = compiled(dockerDefaultProfile({ capabilities: DOCKER_CAPS, arch: 'amd64' }));
  assert.equal(x64(f, 'read'), ALLOW);
  assert.equal(x64(f, 'write'), ALLOW);
  assert.equal(x64(f, 'openat'), ALLOW);
  assert.equal(x64(f, 'arch_prctl'), ALLOW);
  assert.equal(x64(f, 'chroot'), ALLOW); // CAP_SYS_CHROOT is a default cap
  assert.equal(x64(f, 'mount'), EPERM);
  assert.equal(x64(f, 'kexec_load'), EPERM);
  assert.equal(x64(f, 'reboot'), EPERM);
  assert.equal(x64(f, 'clone3'), ENOSYS); // explicit rule: glibc falls back to clone
  // numbers above everything the profile names: ENOSYS (runc patchbpf)
  assert.equal(call(f, { arch: X86_64, nr: 600 }), ENOSYS);
  assert.equal(call(f, { arch: X86_64, nr: 0x3fffffff }), ENOSYS);
  // a hole below the highest named syscall stays EPERM
  assert.equal(call(f, { arch: X86_64, nr: 387 }), EPERM);
  // other arches
  assert.equal(call(f, { arch: AUDIT_ARCH.AARCH64, nr: 63 }), BAD_ARCH_ACTION);
  assert.equal(call(f, { arch: 0x12345678, nr: 0 }), SECCOMP_RET.KILL_THREAD);
  assert.equal(call(f, { arch: AUDIT_ARCH.I386, nr: nr('read', SYSCALLS_X86) }), ALLOW);
  assert.equal(call(f, { arch: AUDIT_ARCH.I386, nr: nr('socketcall', SYSCALLS_X86) }), ALLOW);
  assert.equal(call(f, { arch: AUDIT_ARCH.I386, nr: nr('mount', SYSCALLS_X86) }), EPERM);
  assert.equal(call(f, { arch: AUDIT_ARCH.I386, nr: 1000 }), ENOSYS);
  // x32 ABI: its own table, never the x86_64 one
  assert.equal(call(f, { arch: X86_64, nr: nr('read', SYSCALLS_X32) }), ALLOW);
  assert.equal(call(f, { arch: X86_64, nr: nr('execve', SYSCALLS_X32) }), ALLOW);
  assert.equal(call(f, { arch: X86_64, nr: nr('mount', SYSCALLS_X32) }), EPERM);
  assert.equal(call(f, { arch: X86_64, nr: 0x40000000 + 1000 }), ENOSYS);
});

test('x32 numbers do not slip through an x86_64-only filter', () => {
  const f = compiled({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['read', 'mount'], action: 'SCMP_ACT_ALLOW' }] });
  assert.equal(call(f, { arch: X86_64, nr: 0 }), ALLOW);
  assert.equal(call(f, { arch: X86_64, nr: 165 }), ALLOW);
  assert.equal(call(f, { arch: X86_64, nr: 0x40000000 }), BAD_ARCH_ACTION);
  assert.equal(call(f, { arch: X86_64, nr: 0x40000000 | 165 }), BAD_ARCH_ACTION);
  assert.equal(call(f, { arch: AUDIT_ARCH.I386, nr: 3 }), BAD_ARCH_ACTION);
  // x32 only (on an aarch64 host, say): x86_64 numbers are the bad arch
  const g = compiled({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X32'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] }, 'aarch64');
  assert.equal(call(g, { arch: X86_64, nr: 0x40000000 }), ALLOW);
  assert.equal(call(g, { arch: X86_64, nr: 0 }), BAD_ARCH_ACTION);
});

test('docker default profile: personality, socket and clone argument rules', () => {
  const f = compiled(dockerDefaultProfile({ capabilities: DOCKER_CAPS, arch: 'amd64' }));
  for (const v of [0, 8, 0x20000, 0x20008, 0xffffffff]) assert.equal(x64(f, 'personality', v), ALLOW, `personality(${v})`);
  assert.equal(x64(f, 'personality', 0x40000), EPERM);
  assert.equal(x64(f, 'personality', 0x0400000), EPERM); // READ_IMPLIES_EXEC
  assert.equal(x64(f, 'personality', 1n << 32n), EPERM); // 64-bit compare: high word differs
  assert.equal(x64(f, 'personality', 0xffffffffffffffffn), EPERM);
  // i386 compares only the low 32 bits, as libseccomp does for 32-bit ABIs
  assert.equal(call(f, { arch: AUDIT_ARCH.I386, nr: nr('personality', SYSCALLS_X86), args: [1n << 32n] }), ALLOW);

  assert.equal(x64(f, 'socket', 2, 1, 0), ALLOW); // AF_INET
  assert.equal(x64(f, 'socket', 1), ALLOW); // AF_UNIX
  assert.equal(x64(f, 'socket', 40), EPERM); // AF_VSOCK: denied since moby 25
  assert.equal(x64(f, 'socket', (1n << 32n) | 40n), ALLOW); // NE on 64 bits

  const CLONE_NEWUSER = 0x10000000;
  const CLONE_NEWNET = 0x40000000;
  const threadFlags = 0x3d0f00; // glibc pthread_create
  assert.equal(x64(f, 'clone', threadFlags), ALLOW);
  assert.equal(x64(f, 'clone', 17), ALLOW); // SIGCHLD: fork
  assert.equal(x64(f, 'clone', CLONE_NEWUSER | 17), EPERM);
  assert.equal(x64(f, 'clone', CLONE_NEWNET), EPERM);
  assert.equal(x64(f, 'unshare'), EPERM); // only with CAP_SYS_ADMIN

  const admin = compiled(dockerDefaultProfile({ capabilities: [...DOCKER_CAPS, 'CAP_SYS_ADMIN'], arch: 'amd64' }));
  assert.equal(x64(admin, 'clone', CLONE_NEWUSER | 17), ALLOW);
  assert.equal(x64(admin, 'clone3'), ALLOW);
  assert.equal(x64(admin, 'mount'), ALLOW);
  assert.equal(x64(admin, 'reboot'), EPERM); // needs CAP_SYS_BOOT
  const boot = compiled(dockerDefaultProfile({ capabilities: ['SYS_BOOT'], arch: 'amd64' }));
  assert.equal(x64(boot, 'reboot'), ALLOW);
});

test('docker default profile: minKernel and aarch64', () => {
  const newer = compiled(dockerDefaultProfile({ capabilities: DOCKER_CAPS, arch: 'amd64', kernel: '6.1.0-18-amd64' }));
  assert.equal(x64(newer, 'ptrace'), ALLOW);
  const old = compiled(dockerDefaultProfile({ capabilities: DOCKER_CAPS, arch: 'amd64', kernel: '4.4.0' }));
  assert.equal(x64(old, 'ptrace'), EPERM);

  const f = compiled(dockerDefaultProfile({ capabilities: DOCKER_CAPS, arch: 'arm64' }), 'aarch64');
  const A64 = AUDIT_ARCH.AARCH64;
  assert.equal(call(f, { arch: A64, nr: nr('openat', SYSCALLS_AARCH64) }), ALLOW);
  assert.equal(call(f, { arch: A64, nr: nr('mount', SYSCALLS_AARCH64) }), EPERM);
  assert.equal(call(f, { arch: A64, nr: nr('clone3', SYSCALLS_AARCH64) }), ENOSYS);
  assert.equal(call(f, { arch: A64, nr: 900 }), ENOSYS);
  assert.equal(call(f, { arch: AUDIT_ARCH.ARM, nr: nr('breakpoint', SYSCALLS_ARM) }), ALLOW);
  assert.equal(call(f, { arch: AUDIT_ARCH.ARM, nr: nr('read', SYSCALLS_ARM) }), ALLOW);
  assert.equal(call(f, { arch: X86_64, nr: 0 }), BAD_ARCH_ACTION);
});

test('actions, errnoRet and flags', () => {
  const cases: [string, number | undefined, number][] = [
    ['SCMP_ACT_KILL', undefined, SECCOMP_RET.KILL_THREAD],
    ['SCMP_ACT_KILL_THREAD', undefined, SECCOMP_RET.KILL_THREAD],
    ['SCMP_ACT_KILL_PROCESS', undefined, SECCOMP_RET.KILL_PROCESS],
    ['SCMP_ACT_TRAP', undefined, SECCOMP_RET.TRAP],
    ['SCMP_ACT_ERRNO', undefined, EPERM],
    ['SCMP_ACT_ERRNO', 13, (SECCOMP_RET.ERRNO | 13) >>> 0],
    ['SCMP_ACT_TRACE', undefined, (SECCOMP_RET.TRACE | 1) >>> 0],
    ['SCMP_ACT_TRACE', 7, (SECCOMP_RET.TRACE | 7) >>> 0],
    ['SCMP_ACT_LOG', undefined, SECCOMP_RET.LOG],
  ];
  for (const [action, errnoRet, want] of cases) {
    const s: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], action, ...(errnoRet === undefined ? {} : { errnoRet }) }] };
    const f = compiled(s);
    assert.equal(x64(f, 'getppid'), want, action);
    assert.equal(x64(f, 'getpid'), ALLOW);
    assert.equal(call(f, { arch: X86_64, nr: 5000 }), ALLOW); // no ENOSYS with an allowing default
    const d = compiled({ defaultAction: action, ...(errnoRet === undefined ? {} : { defaultErrnoRet: errnoRet }), syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_ALLOW' }] });
    assert.equal(x64(d, 'getpid'), want, `default ${action}`);
    assert.equal(x64(d, 'getppid'), ALLOW);
  }
  // default ENOSYS: stays ENOSYS; default LOG/TRACE: no stub
  const log = compiled({ defaultAction: 'SCMP_ACT_LOG', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO' }] });
  assert.equal(call(log, { arch: X86_64, nr: 5000 }), SECCOMP_RET.LOG);
  const kill = compiled({ defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }] });
  assert.equal(call(kill, { arch: X86_64, nr: 5000 }), ENOSYS);
  assert.equal(call(kill, { arch: X86_64, nr: 3 }), SECCOMP_RET.KILL_PROCESS);
  // no syscalls at all: native arch only, everything default
  const empty = compiled({ defaultAction: 'SCMP_ACT_ERRNO' });
  assert.equal(call(empty, { arch: X86_64, nr: 0 }), EPERM);
  assert.equal(call(empty, { arch: X86_64, nr: 5000 }), EPERM);

  const { flags } = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }, { nativeArch: 'x86_64' });
  assert.equal(flags, 1 | 2 | 4 | 32);
  assert.equal(SECCOMP_FILTER_FLAG.SECCOMP_FILTER_FLAG_LOG, 2);
  assert.equal(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, { nativeArch: 'x86_64' }).flags, 0);
});

test('64-bit argument comparisons match unsigned 64-bit semantics', () => {
  const values = [0n, 1n, 5n, 0xffffffffn, 0x100000000n, 0x100000005n, 0x1fffffffffn, 1n << 52n];
  const argsv = [...values, 4n, 6n, 0xfffffffen, 0x100000004n, 0x200000005n, 0xffffffffffffffffn, (1n << 63n) | 5n];
  const ops: Record<string, (a: bigint, v: bigint) => boolean> = {
    SCMP_CMP_EQ: (a, v) => a === v,
    SCMP_CMP_NE: (a, v) => a !== v,
    SCMP_CMP_LT: (a, v) => a < v,
    SCMP_CMP_LE: (a, v) => a <= v,
    SCMP_CMP_GT: (a, v) => a > v,
    SCMP_CMP_GE: (a, v) => a >= v,
  };
  for (const [op, fn] of Object.entries(ops)) {
    for (const v of values) {
      const f = compiled({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW', args: [{ index: 2, value: Number(v), op }] }] });
      for (const a of argsv) {
        assert.equal(x64(f, 'getpid', 0, 0, a), fn(a, v) ? ALLOW : EPERM, `${op} arg=${a} value=${v}`);
      }
    }
  }
  const masks: [bigint, bigint][] = [[0xffn, 5n], [0x1_0000_00ffn, 0x1_0000_0005n], [0x1_0000_0000n, 0n], [0n, 0n], [0xf0000000_0000000fn >> 12n, 0n]];
  for (const [m, d] of masks) {
    const f = compiled({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW', args: [{ index: 5, value: Number(m), valueTwo: Number(d), op: 'SCMP_CMP_MASKED_EQ' }] }] });
    for (const a of argsv) {
      assert.equal(x64(f, 'getpid', 0, 0, 0, 0, 0, a), (a & m) === d ? ALLOW : EPERM, `MASKED_EQ arg=${a} mask=${m} datum=${d}`);
    }
  }
});

test('args in one rule are ANDed, rules are ORed, first listed rule wins', () => {
  const f = compiled({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 3, args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
      { names: ['kill'], action: 'SCMP_ACT_TRAP', args: [{ index: 0, value: 100, op: 'SCMP_CMP_GE' }] },
      { names: ['kill'], action: 'SCMP_ACT_LOG' },
      { names: ['kill'], action: 'SCMP_ACT_KILL', args: [{ index: 0, value: 7, op: 'SCMP_CMP_EQ' }] }, // unreachable
    ],
  });
  assert.equal(x64(f, 'kill', 1, 9), ALLOW);
  assert.equal(x64(f, 'kill', 2, 9), (SECCOMP_RET.ERRNO | 3) >>> 0);
  assert.equal(x64(f, 'kill', 100, 15), SECCOMP_RET.TRAP);
  assert.equal(x64(f, 'kill', 7, 15), SECCOMP_RET.LOG);
  assert.equal(x64(f, 'kill', 1, 15), SECCOMP_RET.LOG);
  // the same index twice: one rule per condition, ORed (runc / crun)
  const g = compiled({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }, { index: 1, value: 15, op: 'SCMP_CMP_EQ' }] }],
  });
  assert.equal(x64(g, 'kill', 0, 9), ALLOW);
  assert.equal(x64(g, 'kill', 0, 15), ALLOW);
  assert.equal(x64(g, 'kill', 0, 2), EPERM);
  // a rule with the default action is dropped (runc), so a later rule applies
  const h = compiled({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
      { names: ['kill'], action: 'SCMP_ACT_ALLOW' },
    ],
  });
  assert.equal(x64(h, 'kill', 0, 9), ALLOW);
  // names unknown for an arch are skipped; unknown everywhere too
  const u = compiled({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: [{ names: ['arch_prctl', 'socketcall', 'no_such_syscall'], action: 'SCMP_ACT_ALLOW' }] });
  assert.equal(x64(u, 'arch_prctl'), ALLOW);
  assert.equal(call(u, { arch: AUDIT_ARCH.I386, nr: nr('socketcall', SYSCALLS_X86) }), ALLOW);
});

test('a 400-syscall profile with argument rules keeps every jump in range', () => {
  // i386 names, compiled for x86_64, i386 and x32: three sections, long jumps to the rule bodies
  const names = Object.keys(SYSCALLS_X86).slice(0, 400);
  const errno = (i: number): number => (SECCOMP_RET.ERRNO | (100 + (i % 50))) >>> 0;
  const s: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: names.map((n, i) => ({
      names: [n],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 100 + (i % 50),
      ...(i % 4 === 0 ? { args: [{ index: i % 6, value: 0x1_0000_0000 + i + 1, op: 'SCMP_CMP_EQ' }] } : {}),
    })),
  };
  const { filter } = compileSeccomp(s, { nativeArch: 'x86_64' });
  const prog = decode(filter);
  verify(prog);
  assert.ok(prog.length > 1500, `program has ${prog.length} instructions`);
  const tables: [number, Record<string, number>, boolean][] = [[AUDIT_ARCH.I386, SYSCALLS_X86, false], [X86_64, SYSCALLS_X86_64, true], [X86_64, SYSCALLS_X32, false]];
  for (const [arch, table, wide] of tables) {
    names.forEach((n, i) => {
      const num = table[n];
      if (num === undefined) return;
      const args = [0n, 0n, 0n, 0n, 0n, 0n];
      if (i % 4 !== 0) {
        assert.equal(call(filter, { arch, nr: num, args }), errno(i), n);
        return;
      }
      assert.equal(call(filter, { arch, nr: num, args }), EPERM, `${n} arg mismatch`);
      args[i % 6] = BigInt(0x1_0000_0000 + i + 1);
      assert.equal(call(filter, { arch, nr: num, args }), errno(i), `${n} arg match`);
      args[i % 6] = BigInt(i + 1); // high word differs: only 32-bit ABIs ignore it
      assert.equal(call(filter, { arch, nr: num, args }), wide ? EPERM : errno(i), `${n} low word only`);
    });
  }

  // many rules for one syscall, and a whole table allowed
  const many = compiled({
    defaultAction: 'SCMP_ACT_KILL_PROCESS',
    syscalls: [
      ...Array.from({ length: 300 }, (_, i) => ({ names: ['ioctl'], action: 'SCMP_ACT_ERRNO', errnoRet: i + 1, args: [{ index: 1, value: 0x5400 + i, op: 'SCMP_CMP_EQ' }] })),
      { names: Object.keys(SYSCALLS_X86_64), action: 'SCMP_ACT_ALLOW' },
    ],
  });
  for (let i = 0; i < 300; i++) assert.equal(x64(many, 'ioctl', 3, 0x5400 + i), (SECCOMP_RET.ERRNO | (i + 1)) >>> 0);
  assert.equal(x64(many, 'ioctl', 3, 0x1234), ALLOW); // no conditional rule matched: the unconditional one listed after
  for (const n of Object.keys(SYSCALLS_X86_64)) if (n !== 'ioctl') assert.equal(x64(many, n), ALLOW, n);
  assert.equal(call(many, { arch: X86_64, nr: 1000 }), ENOSYS);
});

test('invalid profiles name the field', () => {
  const base = (sc: object): LinuxSeccomp => ({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['a'], action: 'SCMP_ACT_ALLOW' }, { names: ['b'], action: 'SCMP_ACT_ALLOW' }, sc as never] });
  throwsBerth(() => compileSeccomp(base({ names: ['write'], action: 'SCMP_ACT_FOO' })), 'InvalidArgument', 'linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"');
  throwsBerth(() => compileSeccomp(base({ names: ['write'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] })), 'InvalidArgument', 'linux.seccomp.syscalls[3].args[0].index: must be 0..5, got 6');
  throwsBerth(() => compileSeccomp(base({ names: ['write'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }, { index: 1, value: 0, op: 'SCMP_CMP_XX' }] })), 'InvalidArgument', 'linux.seccomp.syscalls[3].args[1].op: unknown operator "SCMP_CMP_XX"');
  throwsBerth(() => compileSeccomp(base({ names: ['write'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] })), 'InvalidArgument', /syscalls\[3\]\.args\[0\]\.value: must be an unsigned 64-bit integer/);
  throwsBerth(() => compileSeccomp(base({ names: [], action: 'SCMP_ACT_ALLOW' })), 'InvalidArgument', /syscalls\[3\]\.names/);
  throwsBerth(() => compileSeccomp(base({ names: ['write'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 })), 'InvalidArgument', /syscalls\[3\]\.errnoRet/);
  throwsBerth(() => compileSeccomp({ defaultAction: 'SCMP_ACT_NOPE' }), 'InvalidArgument', 'linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"');
  throwsBerth(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_VAX'] }), 'InvalidArgument', 'linux.seccomp.architectures[1]: unknown architecture "SCMP_ARCH_VAX"');
  throwsBerth(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', flags: ['SECCOMP_FILTER_FLAG_BOGUS'] }), 'InvalidArgument', 'linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_BOGUS"');
  throwsBerth(() => compileSeccomp(base({ names: ['write'], action: 'SCMP_ACT_NOTIFY' })), 'NotImplemented', /syscalls\[3\]\.action: SCMP_ACT_NOTIFY/);
  throwsBerth(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', listenerPath: '/run/agent.sock' }), 'NotImplemented', /linux\.seccomp\.listenerPath/);
  // known architectures without a table are accepted and left to the bad-arch action
  const f = compiled({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_PPC64LE'] });
  assert.equal(call(f, { arch: 0xc0000015, nr: 0 }), BAD_ARCH_ACTION);
  assert.equal(call(f, { arch: X86_64, nr: 0 }), ALLOW);
});

test('loadSeccompProfileJSON: docker format and plain OCI', () => {
  const docker = JSON.stringify({
    defaultAction: 'SCMP_ACT_ERRNO',
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }, { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] }],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', comment: 'io' },
      { name: 'mount', action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64'] } },
      { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '99.0' } },
    ],
  });
  const p = loadSeccompProfileJSON(docker, ['CHOWN'], { arch: 'x86_64', kernel: '6.1.0' })!;
  assert.deepEqual(p, {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW' },
    ],
  });
  const admin = loadSeccompProfileJSON(docker, ['CAP_SYS_ADMIN'], { arch: 'arm64' })!;
  assert.deepEqual(admin.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.deepEqual(admin.syscalls!.map((s) => s.names[0]), ['read', 'mount', 'ptrace']);

  const oci: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], flags: ['SECCOMP_FILTER_FLAG_LOG'], syscalls: [{ names: ['kexec_load'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 1, valueTwo: 0, op: 'SCMP_CMP_EQ' }] }] };
  assert.deepEqual(loadSeccompProfileJSON(JSON.stringify(oci), []), oci);
  assert.equal(loadSeccompProfileJSON('{}', []), undefined);

  throwsBerth(() => loadSeccompProfileJSON('{"defaultAction":', []), 'InvalidArgument', /^Decoding seccomp profile failed: /);
  throwsBerth(() => loadSeccompProfileJSON(JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86'], archMap: [{ architecture: 'SCMP_ARCH_X86_64' }] }), []), 'InvalidArgument', /both 'architectures' and 'archMap'/);
  throwsBerth(() => loadSeccompProfileJSON(JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ALLOW' }] }), []), 'InvalidArgument', /both 'name' and 'names'/);
});

test('default profile size', () => {
  const { filter } = compileSeccomp(dockerDefaultProfile({ capabilities: DOCKER_CAPS, arch: 'amd64' }), { nativeArch: 'x86_64' });
  const n = filter.length / 8;
  assert.ok(n < 1000, `${n} instructions`);
});

test('a profile compiled again comes from the cache: the same filter, a copy the caller may change', () => {
  const profile = dockerDefaultProfile({ capabilities: DOCKER_CAPS, arch: 'amd64' });
  const first = compileSeccomp(profile, { nativeArch: 'x86_64' });
  const again = compileSeccomp(JSON.parse(JSON.stringify(profile)) as LinuxSeccomp, { nativeArch: 'x86_64' });
  assert.deepEqual(again, first);
  first.filter.fill(0);
  const third = compileSeccomp(profile, { nativeArch: 'x86_64' });
  assert.deepEqual(third, again, 'a caller changing its filter does not change the cached one');
  assert.equal(x64(third.filter, 'read'), ALLOW);
  // a different profile (or arch) is its own entry
  const other = compileSeccomp({ ...profile, defaultAction: 'SCMP_ACT_KILL' }, { nativeArch: 'x86_64' });
  assert.notDeepEqual(other.filter, third.filter);
  assert.notDeepEqual(compileSeccomp(profile, { nativeArch: 'aarch64' }).filter, third.filter);
});

test('docker default profile, shared: made once per options, frozen, the same as a fresh one; its filter is the one a copy compiles to', () => {
  const p = sharedDockerDefaultProfile({ capabilities: DOCKER_CAPS, arch: 'amd64', kernel: '6.1.0' });
  assert.equal(sharedDockerDefaultProfile({ capabilities: [...DOCKER_CAPS].reverse().map((c) => c.slice(4)), arch: 'x86_64', kernel: '6.1.0' }), p);
  assert.notEqual(sharedDockerDefaultProfile({ capabilities: [...DOCKER_CAPS, 'CAP_SYS_ADMIN'], arch: 'amd64', kernel: '6.1.0' }), p);
  assert.notEqual(sharedDockerDefaultProfile({ capabilities: DOCKER_CAPS, arch: 'amd64', kernel: '4.4.0' }), p);
  assert.ok(Object.isFrozen(p) && Object.isFrozen(p.syscalls![0]!.names));
  assert.throws(() => { p.syscalls!.push({ names: ['reboot'], action: 'SCMP_ACT_ALLOW' }); }, TypeError);
  // dockerDefaultProfile stays a fresh copy its caller may change
  const fresh = dockerDefaultProfile({ capabilities: DOCKER_CAPS, arch: 'amd64', kernel: '6.1.0' });
  assert.deepEqual(fresh, p);
  assert.ok(!Object.isFrozen(fresh));
  fresh.syscalls!.push({ names: ['reboot'], action: 'SCMP_ACT_ALLOW' });
  assert.notDeepEqual(sharedDockerDefaultProfile({ capabilities: DOCKER_CAPS, arch: 'amd64', kernel: '6.1.0' }), fresh);
  const copy = JSON.parse(JSON.stringify(p)) as LinuxSeccomp;
  assert.deepEqual(compileSeccomp(p).filter, compileSeccomp(copy).filter);
  assert.deepEqual(compileSeccomp(p).filter, compileSeccomp(p).filter);
});

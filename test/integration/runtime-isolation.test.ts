// Root integration: a bundle runs under `berth runtime run` and the probe inside reports what it sees.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { CAPABILITIES } from '../../src/runtime/linux.js';
import { dockerSeccomp, isRoot, makeBundle, parseJSON, rmBundle, Runtime } from '../helpers/bundle.js';
import type { Spec } from '../../src/runtime/spec-types.js';

interface Facts {
  pid: number; uid: number; gid: number; groups: number[]; hostname: string; domainname: string; umask: number; cwd: string;
  caps: Record<string, string>; seccomp: number; noNewPrivs: number; rlimits: Record<string, [number, number]>;
  oomScoreAdj: number; ns: Record<string, string>; cgroup: string[];
  mounts: Array<{ target: string; fstype: string; options: string }>; fds: Array<{ fd: number; target: string }>; env: string[];
}

const skip = isRoot ? false : 'needs root';
const rt = new Runtime();

async function probe(edit?: (s: Spec) => void, args?: string[]): Promise<{ facts: Facts; code: number; stderr: string }> {
  const b = await makeBundle((s) => { if (args) s.process!.args = ['/bin/probe', ...args]; edit?.(s); });
  try {
    const r = await rt.berth(['run', '--bundle', b.dir, b.id]);
    assert.equal(r.code, 0, `run failed: ${r.stderr}`);
    return { facts: parseJSON<Facts>(r), code: r.code, stderr: r.stderr };
  } finally {
    rmBundle(b);
  }
}

const mask = (names: string[]) => {
  let m = 0n;
  for (const n of names) m |= 1n << BigInt((CAPABILITIES as readonly string[]).indexOf(n));
  return m.toString(16).padStart(16, '0');
};

describe('runtime isolation', { skip }, () => {
  after(() => rt.cleanup());
  let host: Record<string, string>;
  before(() => {
    host = {};
    for (const n of ['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup', 'user']) host[n] = fs.readlinkSync(`/proc/self/ns/${n}`);
  });

  test('new namespaces, PID 1, hostname, domainname, cwd, env', async () => {
    const { facts } = await probe((s) => {
      s.hostname = 'box';
      s.domainname = 'example.test';
      s.process!.cwd = '/tmp';
      s.process!.env!.push('HELLO=world');
    });
    assert.equal(facts.pid, 1);
    assert.equal(facts.hostname, 'box');
    assert.equal(facts.domainname, 'example.test');
    assert.equal(facts.cwd, '/tmp');
    assert.ok(facts.env.includes('HELLO=world'));
    for (const n of ['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup']) assert.notEqual(facts.ns[n], host[n], `${n} namespace is the host's`);
    assert.equal(facts.ns.user, host.user, 'no user namespace was asked for');
    // cgroup namespace is rooted at the container's cgroup
    assert.ok(facts.cgroup.every((l) => l.endsWith(':/')), facts.cgroup.join(' '));
  });

  test('joins a namespace by path instead of creating it', async () => {
    const { facts } = await probe((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/proc/self/ns/net' } : n));
    });
    assert.equal(facts.ns.net, host.net);
    assert.notEqual(facts.ns.mnt, host.mnt);
  });

  test('user, groups, umask', async () => {
    const { facts } = await probe((s) => { s.process!.user = { uid: 1000, gid: 1000, additionalGids: [1001, 5], umask: 0o027 }; });
    assert.equal(facts.uid, 1000);
    assert.equal(facts.gid, 1000);
    assert.deepEqual([...facts.groups].sort(), [1001, 5].sort());
    assert.equal(facts.umask, 0o027);
  });

  test('capabilities: all five sets as the spec says', async () => {
    const { facts } = await probe((s) => {
      s.process!.capabilities = {
        bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SETPCAP'],
        effective: ['CAP_CHOWN', 'CAP_KILL'],
        permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'],
        inheritable: ['CAP_KILL', 'CAP_NET_RAW'],
        ambient: ['CAP_KILL'],
      };
    });
    assert.equal(facts.caps.bounding, mask(['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SETPCAP']));
    // after execve as root: permitted/effective recomputed from bounding for uid 0 (capabilities(7)),
    // so check a non-root user for the exact sets below
    assert.equal(facts.caps.inheritable, mask(['CAP_KILL', 'CAP_NET_RAW']));
    assert.equal(facts.caps.ambient, mask(['CAP_KILL']));
    const user = await probe((s) => {
      s.process!.user = { uid: 1000, gid: 1000 };
      s.process!.capabilities = { bounding: ['CAP_KILL', 'CAP_NET_RAW'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] };
    });
    assert.equal(user.facts.caps.effective, mask(['CAP_KILL']));
    assert.equal(user.facts.caps.permitted, mask(['CAP_KILL']));
    assert.equal(user.facts.caps.ambient, mask(['CAP_KILL']));
    assert.equal(user.facts.caps.bounding, mask(['CAP_KILL', 'CAP_NET_RAW']));
  });

  test('no_new_privs on and off', async () => {
    assert.equal((await probe((s) => { s.process!.noNewPrivileges = true; })).facts.noNewPrivs, 1);
    assert.equal((await probe((s) => { s.process!.noNewPrivileges = false; })).facts.noNewPrivs, 0);
  });

  test('rlimits are set in the container process', async () => {
    const { facts } = await probe((s) => {
      s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 }, { type: 'RLIMIT_NPROC', soft: 300, hard: 400 }, { type: 'RLIMIT_CORE', soft: 0, hard: 0 }];
    });
    assert.deepEqual(facts.rlimits.nofile, [512, 1024]);
    assert.deepEqual(facts.rlimits.nproc, [300, 400]);
    assert.deepEqual(facts.rlimits.core, [0, 0]);
  });

  test('oom_score_adj', async () => {
    assert.equal((await probe((s) => { s.process!.oomScoreAdj = 500; })).facts.oomScoreAdj, 500);
  });

  test('seccomp with Docker\'s default profile: mode 2, unshare and keyctl EPERM, normal programs work', async () => {
    const caps = defaultCaps();
    const seccomp = await dockerSeccomp(caps);
    const facts = (await probe((s) => { s.linux!.seccomp = seccomp; })).facts;
    assert.equal(facts.seccomp, 2);
    for (const name of ['unshare', 'keyctl']) {
      const r = await probe((s) => { s.linux!.seccomp = seccomp; }, ['syscall', name]);
      assert.equal((r.facts as unknown as { errno: number }).errno, 1, `${name} should fail with EPERM`);
    }
    const b = await makeBundle((s) => { s.linux!.seccomp = seccomp; s.process!.args = ['/bin/sh', '-c', 'echo hello | tr a-z A-Z; ls /bin/probe']; });
    try {
      const r = await rt.berth(['run', '-b', b.dir, b.id]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'HELLO\n/bin/probe\n');
    } finally { rmBundle(b); }
  });

  test('an allow-list profile without faccessat2 still finds the program (runtime-tools\' default profile)', async () => {
    // The profile names landlock_restrict_self (446), so the ENOSYS stub for newer syscalls does not
    // cover faccessat2 (439): the helper's PATH lookup must not depend on it (it used to fail with EPERM).
    const seccomp = await dockerSeccomp(defaultCaps());
    for (const e of seccomp.syscalls ?? []) e.names = e.names.filter((n) => n !== 'faccessat2');
    seccomp.syscalls = [...(seccomp.syscalls ?? []), { names: ['landlock_restrict_self'], action: 'SCMP_ACT_ALLOW' }];
    for (const args of [['/bin/sh', '-c', 'echo found'], ['sh', '-c', 'echo found']]) {
      // without no_new_privs the filter goes in before the lookup (as runc does), which is the case that failed
      const b = await makeBundle((s) => { s.linux!.seccomp = seccomp; s.process!.args = args; s.process!.noNewPrivileges = false; });
      try {
        const r = await rt.berth(['run', '-b', b.dir, b.id]);
        assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
        assert.equal(r.stdout, 'found\n');
      } finally { rmBundle(b); }
    }
  });

  test('masked and read-only paths', async () => {
    // /proc/kcore is absent on some kernels; /proc/timer_list and /proc/keys are masked files too
    for (const f of ['/proc/timer_list', '/proc/keys']) {
      assert.ok(fs.existsSync(f), `${f} exists on the host`);
      const masked = await probe(undefined, ['read', f]);
      assert.equal((masked.facts as unknown as { data: string }).data, '', `${f} must read as empty (/dev/null)`);
    }
    const acpi = await probe(undefined, ['open', '/proc/acpi/x', 'w']);
    assert.equal((acpi.facts as unknown as { ok: boolean }).ok, false);
    const sys = await probe(undefined, ['write', '/proc/sys/kernel/domainname', 'x']);
    assert.equal((sys.facts as unknown as { error: string }).error, 'Read-only file system');
    const sysrq = await probe(undefined, ['write', '/proc/sysrq-trigger', 'h']);
    assert.equal((sysrq.facts as unknown as { ok: boolean }).ok, false);
  });

  test('read-only root and writable tmpfs mounts', async () => {
    const ro = await probe((s) => { s.root!.readonly = true; }, ['write', '/etc/x', 'y']);
    assert.equal((ro.facts as unknown as { error: string }).error, 'Read-only file system');
    const tmp = await probe((s) => { s.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }); }, ['write', '/scratch/x', 'y']);
    assert.equal((tmp.facts as unknown as { ok: boolean }).ok, true);
  });

  test('bind mounts: ro and rw, file and directory', async () => {
    const dir = fs.mkdtempSync('/tmp/berth-bind-');
    fs.writeFileSync(`${dir}/hello`, 'from host');
    try {
      const r = await probe((s) => {
        s.mounts!.push({ destination: '/data', type: 'bind', source: dir, options: ['rbind', 'ro'] });
        s.mounts!.push({ destination: '/etc/hello.txt', type: 'bind', source: `${dir}/hello`, options: ['bind'] });
      }, ['read', '/etc/hello.txt']);
      assert.equal((r.facts as unknown as { data: string }).data, 'from host');
      const w = await probe((s) => { s.mounts!.push({ destination: '/data', type: 'bind', source: dir, options: ['rbind', 'ro'] }); }, ['write', '/data/new', 'x']);
      assert.equal((w.facts as unknown as { error: string }).error, 'Read-only file system');
      const rw = await probe((s) => { s.mounts!.push({ destination: '/data', type: 'bind', source: dir, options: ['rbind', 'rw'] }); }, ['write', '/data/new', 'x']);
      assert.equal((rw.facts as unknown as { ok: boolean }).ok, true);
      assert.equal(fs.readFileSync(`${dir}/new`, 'utf8'), 'x');
    } finally { fs.rmSync(dir, { recursive: true }); }
  });

  test('default devices exist and work; extra devices from linux.devices', async () => {
    const b = await makeBundle((s) => {
      s.linux!.devices = [{ path: '/dev/kmsg2', type: 'c', major: 1, minor: 11, fileMode: 0o600 }];
      s.process!.args = ['/bin/sh', '-c', 'ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/kmsg2; head -c 4 /dev/zero | wc -c; readlink /dev/fd; readlink /dev/ptmx'];
    });
    try {
      const r = await rt.berth(['run', '-b', b.dir, b.id]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /crw-rw-rw-.*1,\s+3 .*\/dev\/null/);
      assert.match(r.stdout, /crw-------.*1,\s+11 .*\/dev\/kmsg2/);
      assert.match(r.stdout, /^4$/m);
      assert.match(r.stdout, /\/proc\/self\/fd\npts\/ptmx/);
    } finally { rmBundle(b); }
  });

  test('device cgroup: a node that is not allowed cannot be opened, even by root with every capability', async () => {
    const all = hostCaps();
    const b = await makeBundle((s) => {
      s.process!.capabilities = { bounding: all, effective: all, permitted: all };
      s.process!.args = ['/bin/sh', '-c', 'mknod /dev/mem2 c 1 1 && /bin/probe open /dev/mem2 r; /bin/probe open /dev/null r'];
    });
    try {
      const r = await rt.berth(['run', '-b', b.dir, b.id]);
      assert.equal(r.code, 0, r.stderr);
      const [mem, nul] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; errno: number });
      assert.equal(mem!.ok, false);
      assert.equal(mem!.errno, 1, 'c 1:1 is not in the allowed devices: EPERM');
      assert.equal(nul!.ok, true);
    } finally { rmBundle(b); }
  });

  test('no host file descriptor leaks into the container', async () => {
    const fd = fs.openSync('/etc/hostname', 'r');
    try {
      const { facts } = await probe();
      const fds = facts.fds.map((f) => f.fd).sort();
      assert.deepEqual(fds.filter((n) => n > 2), [], `extra fds: ${JSON.stringify(facts.fds)}`);
    } finally { fs.closeSync(fd); }
  });

  test('a process without capabilities cannot mount, chroot, set the hostname or write host sysctls', async () => {
    // uid 0 inside, but no capabilities: the kernel checks capabilities, not the uid
    const none = (s: Spec) => { s.process!.capabilities = {}; };
    for (const [name, arg] of [['mount', '/dev'], ['chroot'], ['sethostname'], ['mknod', '/dev/x']]) {
      const r = await probe(none, ['syscall', name!, ...(arg ? [arg] : [])]);
      assert.equal((r.facts as unknown as { errno: number }).errno, 1, `${name}: ${JSON.stringify(r.facts)}`);
    }
    const back = await probe((s) => { s.process!.capabilities = {}; s.process!.user = { uid: 1000, gid: 1000 }; }, ['syscall', 'setuid0']);
    assert.equal((back.facts as unknown as { errno: number }).errno, 1);
    const w = await probe(none, ['write', '/proc/sys/vm/drop_caches', '1']);
    assert.equal((w.facts as unknown as { ok: boolean }).ok, false);
  });
});

/** The capabilities this host's root has (some machines withhold a few, e.g. CAP_SYS_RESOURCE). */
function hostCaps(): string[] {
  const bnd = BigInt('0x' + /CapBnd:\s*([0-9a-f]+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]);
  return (CAPABILITIES as readonly string[]).filter((_, i) => (bnd >> BigInt(i)) & 1n);
}

function defaultCaps(): string[] {
  return ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
    'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
}

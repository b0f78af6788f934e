// daemon/host: facts about the host that /info and /version report, read from /proc, /etc and the
// state root. Those that change (memory, fds) are read on demand, the rest once.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectCgroupMode, type CgroupMode } from '../runtime/cgroups/mode.js';
import { writeFileAtomicSync } from '../util/fs.js';

export interface HostFacts {
  engineId: string;
  hostname: string;
  kernel: string;
  operatingSystem: string;
  osVersion: string;
  arch: string;
  goArch: string;
  ncpu: number;
  memTotal: number;
  cgroupMode: CgroupMode | 'unknown';
  backingFs: string;
  openFds: number;
}

// statfs(2) f_type magic numbers docker names in DriverStatus (moby daemon/graphdriver/driver_linux.go)
const FS_NAMES: Record<number, string> = {
  0xef53: 'extfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x01021994: 'tmpfs', 0x794c7630: 'overlayfs',
  0x2fc12fc1: 'zfs', 0x6969: 'nfs', 0xf2f52010: 'f2fs', 0x65735546: 'fuse', 0x52654973: 'reiserfs',
};

export function osRelease(file = '/etc/os-release'): { pretty: string; version: string } {
  try {
    const kv = Object.fromEntries(fs.readFileSync(file, 'utf8').split('\n').map((l) => /^(\w+)=("?)(.*)\2$/.exec(l)).filter((m): m is RegExpExecArray => !!m).map((m) => [m[1], m[3]]));
    return { pretty: kv.PRETTY_NAME ?? kv.NAME ?? 'Linux', version: kv.VERSION_ID ?? '' };
  } catch { return { pretty: 'Linux', version: '' }; }
}

/** Docker's engine ID: generated once, kept in the state root (moby keeps it in engine-id). */
export function engineId(root: string): string {
  const f = path.join(root, 'engine-id');
  try { return fs.readFileSync(f, 'utf8').trim(); } catch { /* first start */ }
  const id = randomUUID();
  try { fs.mkdirSync(root, { recursive: true }); writeFileAtomicSync(f, id); } catch { /* read-only root: a fresh id each time */ }
  return id;
}

type FixedFacts = Omit<HostFacts, 'hostname' | 'ncpu' | 'memTotal' | 'openFds'>;

function fixedFacts(root: string): FixedFacts {
  const rel = osRelease();
  let cgroupMode: HostFacts['cgroupMode'] = 'unknown';
  try { cgroupMode = detectCgroupMode(fs.readFileSync('/proc/self/mountinfo', 'utf8')); } catch { /* no cgroupfs */ }
  let backingFs = 'unknown';
  try { const t = fs.statfsSync(root).type; backingFs = FS_NAMES[t] ?? `0x${t.toString(16)}`; } catch { /* root missing */ }
  const goArch = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;
  return { engineId: engineId(root), kernel: os.release(), operatingSystem: rel.pretty, osVersion: rel.version, arch: os.machine(), goArch, cgroupMode, backingFs };
}

/**
 * The host's facts as a function: what cannot change while berthd runs (os-release, cgroup mode,
 * the root's filesystem, engine id) is read on the first call only; hostname, CPUs and memory on
 * every call, memory and the open fds only when asked. Every container create asks (cgroup mode, CPUs): reading
 * os-release, mountinfo, statfs and /proc/self/fd each time was ~5 ms of its own time, and libuv's
 * totalmem() parses /proc/meminfo (~0.3 ms).
 */
export function hostFactsReader(root: string): () => HostFacts {
  let fixed: FixedFacts | undefined;
  return () => {
    fixed ??= fixedFacts(root);
    return {
      ...fixed, hostname: os.hostname(), ncpu: os.availableParallelism(),
      get memTotal() { return os.totalmem(); },
      get openFds() { try { return fs.readdirSync('/proc/self/fd').length; } catch { return 0; } }, // no procfs: 0
    };
  };
}

// runtime/defaults: what Berth adds when a spec is silent — `berth runtime spec`'s config and the
// device cgroup rules every container gets (runc's specconv: Example() and AllowedDevices).
import type { DeviceCgroupRule, LinuxResources, Spec } from './spec-types.js';

const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export const MASKED_PATHS = ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export function defaultSpec(): Spec {
  return {
    ociVersion: '1.2.0',
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: DEFAULT_CAPS, effective: DEFAULT_CAPS, permitted: DEFAULT_CAPS, ambient: DEFAULT_CAPS },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'berth',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
    },
  };
}

const c = (major: number | null, minor: number | null, access = 'rwm'): DeviceCgroupRule => ({ allow: true, type: 'c', major, minor, access });

/** Devices every container may use whatever its spec says (runc AllowedDevices). */
export const ALLOWED_DEVICES: DeviceCgroupRule[] = [
  c(null, null, 'm'), { allow: true, type: 'b', major: null, minor: null, access: 'm' },
  c(1, 3), c(1, 8), c(1, 7), c(5, 0), c(1, 5), c(1, 9), c(136, null), c(5, 2), c(10, 200),
];

/** The spec's device rules, then the always-allowed devices and the devices the spec creates. */
export function withDeviceRules(spec: Spec): LinuxResources {
  const r = spec.linux?.resources ?? {};
  const created: DeviceCgroupRule[] = (spec.linux?.devices ?? [])
    .filter((d) => d.type === 'c' || d.type === 'b')
    .map((d) => ({ allow: true, type: d.type as 'c' | 'b', major: d.major ?? null, minor: d.minor ?? null, access: 'rwm' }));
  return { ...r, devices: [...(r.devices ?? []), ...ALLOWED_DEVICES, ...created] };
}

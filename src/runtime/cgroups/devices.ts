// Device cgroup rules: validation and normal form shared by the v1 writer and the (future) v2 eBPF compiler. Pure.
import type { DeviceCgroupRule } from '../spec-types.js';
import { BerthError } from '../../errors.js';

/** A validated rule: major/minor -1 means any ("*"); access in canonical "rwm" order. */
export interface DeviceRule {
  allow: boolean;
  type: 'a' | 'c' | 'b';
  major: number;
  minor: number;
  access: string;
}

function devNumber(v: number | null | undefined, field: string): number {
  if (v === undefined || v === null || v === -1) return -1;
  if (!Number.isInteger(v) || v < 0) throw new BerthError('InvalidArgument', `${field}: must be a non-negative integer, -1 or null`);
  return v;
}

/** Validate and normalize OCI rules, in order (config-linux.md "Allowed Device List"). */
export function normalizeDeviceRules(rules: DeviceCgroupRule[] | undefined): DeviceRule[] {
  return (rules ?? []).map((r, i) => {
    const field = `linux.resources.devices[${i}]`;
    if (typeof r.allow !== 'boolean') throw new BerthError('InvalidArgument', `${field}.allow: must be a boolean`);
    const type = r.type ?? 'a';
    if (type !== 'a' && type !== 'c' && type !== 'b') {
      throw new BerthError('InvalidArgument', `${field}.type: must be "a", "c" or "b", got "${String(type)}"`);
    }
    const acc = r.access ?? 'rwm';
    if (acc === '' || /[^rwm]/.test(acc)) {
      throw new BerthError('InvalidArgument', `${field}.access: must be a non-empty combination of r, w, m; got "${acc}"`);
    }
    const access = ['r', 'w', 'm'].filter((c) => acc.includes(c)).join('');
    return { allow: r.allow, type, major: devNumber(r.major, `${field}.major`), minor: devNumber(r.minor, `${field}.minor`), access };
  });
}

export function isAllDevices(r: DeviceRule): boolean {
  return r.type === 'a' && r.major === -1 && r.minor === -1 && r.access === 'rwm';
}

/**
 * v1 devices.allow / devices.deny lines for one rule. The kernel reads only the type
 * character of an "a" line and treats it as every device (devcgroup_update_access), so an
 * "a" rule narrower than everything is written as its "c" and "b" halves.
 */
export function v1DeviceLines(r: DeviceRule): string[] {
  if (isAllDevices(r)) return ['a'];
  const num = (n: number) => (n === -1 ? '*' : String(n));
  const line = (t: string) => `${t} ${num(r.major)}:${num(r.minor)} ${r.access}`;
  return r.type === 'a' ? [line('c'), line('b')] : [line(r.type)];
}

// runtime/host-facts: what the host and this process are, read here and handed to the pure spec and
// plan builders as data.
//
// Capabilities: the set this process holds is all a container can be given. A privileged container (and --cap-add ALL) gets that set, not every name the headers list: moby's
// caps.GetAllCapabilities and containerd's pkg/cap.Current do the same, since capset(2) refuses a
// capability outside the caller's bounding set (a daemon in a container often lacks some).
import * as fs from 'node:fs';
import { CAPABILITIES } from './linux.js';

const PROC_SUPER_MAGIC = 0x9fa0;

/** The names of the bits set in a capability mask, in bit order (bits Berth has no name for are left out). */
export function capabilityNames(mask: bigint): string[] {
  return CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

let own: string[] | undefined;

/**
 * This process's effective capabilities (CapEff in /proc/self/status), read once: only the process
 * itself changes them (capset), and Berth never does. A copy, for callers that edit their list.
 */
export function ownCapabilities(): string[] {
  if (!own) {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    own = m ? capabilityNames(BigInt(`0x${m[1]}`)) : [...CAPABILITIES];
  }
  return [...own];
}

/** Is `p` on a procfs? (a bind of one is the only bind runc allows on /proc) */
export function isProcfs(p: string): boolean {
  try { return fs.statfsSync(p).type === PROC_SUPER_MAGIC; } catch { return false; }
}

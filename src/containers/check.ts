// containers/check: what moby's validateContainerConfig / verifyPlatformContainerSettings refuse at
// create, with its wording — settings the spec builder would otherwise refuse only at start, when the
// container already exists. Capabilities and security options go through the very spec options that
// apply them, so create and start cannot disagree. Reads host facts; writes nothing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../errors.js';
import { parseSignal } from '../runtime/linux.js';
import type { Spec } from '../runtime/spec-types.js';
import type { ContainerConfig } from './config.js';
import { withCapabilities, withSecurity, type SpecContext } from './spec/index.js';

const bad = (msg: string) => new BerthError('InvalidArgument', msg);

/** Kernel list format "0-3,5" → the set of numbers; undefined when malformed. */
export function parseCpuList(s: string): Set<number> | undefined {
  const out = new Set<number>();
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(s)) return undefined;
  for (const part of s.split(',')) {
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    const hi = b ?? a;
    if (hi < a || hi - a > 65536) return undefined;
    for (let i = a; i <= hi; i++) out.add(i);
  }
  return out;
}

function hostList(file: string): string {
  try { return fs.readFileSync(file, 'utf8').trim(); } catch { return ''; }
}

export interface HostSets { cpus: string; mems: string }

/** The CPUs and memory nodes this host has online (moby sysinfo.Cpus / Mems). */
export function hostSets(): HostSets {
  return { cpus: hostList('/sys/devices/system/cpu/online'), mems: hostList('/sys/devices/system/node/online') || '0' };
}

function checkCpuset(value: string | undefined, available: string, what: 'cpus' | 'mems'): void {
  if (!value) return;
  const want = parseCpuList(value);
  if (!want) throw bad(`Invalid value ${value} for cpuset ${what}: invalid format: ${value}`);
  const have = parseCpuList(available);
  if (!have) return; // the host does not say: leave it to the kernel
  for (const n of want) {
    if (!have.has(n)) {
      throw bad(what === 'cpus' ? `Requested CPUs are not available - requested ${value}, available: ${available}`
        : `Requested memory nodes are not available - requested ${value}, available: ${available}`);
    }
  }
}

/** Throws InvalidArgument (docker's message) for the first setting docker refuses at create. */
/** `host`: the sets, or how to read them (two sysfs reads, only for a cpuset). */
export function checkConfig(c: ContainerConfig, host: HostSets | (() => HostSets) = hostSets, kernel?: string): void {
  if (c.workingDir && !c.workingDir.startsWith('/')) throw bad(`the working directory '${c.workingDir}' is invalid, it needs to be an absolute path`);
  if (c.stopSignal && parseSignal(c.stopSignal) === undefined) throw bad(`Invalid signal: ${c.stopSignal}`);
  // empty names (``, `=foo`); values are the application's business
  for (const e of c.env ?? []) if (e.split('=')[0] === '') throw bad(`invalid environment variable: ${e}`);
  for (const dest of Object.keys(c.host.tmpfs ?? {})) {
    if (path.posix.normalize(dest) === '/' || dest === '') throw bad('invalid specification: destination can\'t be \'/\'');
    if (!dest.startsWith('/')) throw bad(`invalid mount path: '${dest}' mount path must be absolute`);
  }
  if (c.host.cpusetCpus || c.host.cpusetMems) {
    const sets = typeof host === 'function' ? host() : host;
    checkCpuset(c.host.cpusetCpus, sets.cpus, 'cpus');
    checkCpuset(c.host.cpusetMems, sets.mems, 'mems');
  }
  // the spec options that will apply them, on a scratch spec
  const scratch: Spec = { ociVersion: '', process: { cwd: '/', args: ['true'], user: { uid: 0, gid: 0 } }, mounts: [], linux: {} };
  const ctx = { kernel } as SpecContext;
  try {
    withCapabilities(scratch, c, ctx);
  } catch (e) {
    throw bad(`invalid ${(c.host.capAdd ?? []).some((n) => e instanceof Error && e.message.includes(capKey(n))) ? 'CapAdd' : 'CapDrop'}: ${(e as Error).message}`);
  }
  withSecurity(scratch, c, ctx);
}

function capKey(n: string): string {
  const up = n.toUpperCase();
  return up.startsWith('CAP_') ? up : `CAP_${up}`;
}

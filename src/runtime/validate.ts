// validate: checks config.json before anything is created, naming the field at fault.
// Unknown properties are ignored (runtime-spec config.md, "Extensibility"); known ones Berth cannot honour are refused.
import { BerthError } from '../errors.js';
import { CAPABILITIES, NS_FLAG, RLIMITS } from './linux.js';
import { mountRefusal, mountTarget } from './mount-rules.js';
import type { Spec } from './spec-types.js';

const bad = (field: string, msg: string) => new BerthError('InvalidArgument', `${field}: ${msg}`);
const notImpl = (field: string, msg: string) => new BerthError('NotImplemented', `${field}: ${msg}`);

type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(v: Json, field: string, optional = true): void {
  if (v === undefined && optional) return;
  if (typeof v !== 'string') throw bad(field, `must be a string`);
}
function int(v: Json, field: string, min = -Infinity, max = Infinity, optional = true): void {
  if (v === undefined && optional) return;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(field, `must be an integer`);
  if (v < min || v > max) throw bad(field, `${v} is out of range`);
}
function bool(v: Json, field: string): void {
  if (v !== undefined && typeof v !== 'boolean') throw bad(field, `must be true or false`);
}
function strArray(v: Json, field: string): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) throw bad(field, `must be an array of strings`);
  v.forEach((s, i) => str(s, `${field}[${i}]`, false));
}
function arr(v: Json, field: string): Json[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw bad(field, `must be an array`);
  return v;
}
function obj(v: Json, field: string): Record<string, Json> | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v)) throw bad(field, `must be an object`);
  return v;
}

const U32 = 0xffffffff;

export function validateProcess(p: Json, field = 'process', forExec = false): void {
  const proc = obj(p, field);
  if (!proc) throw bad(field, 'is required');
  const args = proc.args;
  if (proc.commandLine !== undefined) throw notImpl(`${field}.commandLine`, 'is for Windows');
  strArray(args, `${field}.args`);
  if (!Array.isArray(args) || args.length === 0) throw bad(`${field}.args`, 'must name the program to run');
  strArray(proc.env, `${field}.env`);
  (proc.env as string[] | undefined)?.forEach((e, i) => { if (!e.includes('=')) throw bad(`${field}.env[${i}]`, `"${e}" is not KEY=value`); });
  str(proc.cwd, `${field}.cwd`, false);
  if (!(proc.cwd as string).startsWith('/')) throw bad(`${field}.cwd`, `"${proc.cwd}" must be an absolute path`);
  bool(proc.terminal, `${field}.terminal`);
  const size = obj(proc.consoleSize, `${field}.consoleSize`);
  if (size) { int(size.height, `${field}.consoleSize.height`, 0, 65535, false); int(size.width, `${field}.consoleSize.width`, 0, 65535, false); }
  const user = obj(proc.user, `${field}.user`);
  if (!user) throw bad(`${field}.user`, 'is required');
  int(user.uid, `${field}.user.uid`, 0, U32, false);
  int(user.gid, `${field}.user.gid`, 0, U32, false);
  int(user.umask, `${field}.user.umask`, 0, 0o777);
  arr(user.additionalGids, `${field}.user.additionalGids`).forEach((g, i) => int(g, `${field}.user.additionalGids[${i}]`, 0, U32, false));
  if (user.username !== undefined) throw notImpl(`${field}.user.username`, 'is for Windows');
  const caps = obj(proc.capabilities, `${field}.capabilities`);
  for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient']) {
    const list = caps?.[set];
    strArray(list, `${field}.capabilities.${set}`);
    (list as string[] | undefined)?.forEach((c, i) => {
      if (!(CAPABILITIES as readonly string[]).includes(c)) throw bad(`${field}.capabilities.${set}[${i}]`, `unknown capability "${c}"`);
    });
  }
  const seen = new Set<string>();
  arr(proc.rlimits, `${field}.rlimits`).forEach((r, i) => {
    const f = `${field}.rlimits[${i}]`;
    const o = obj(r, f)!;
    str(o.type, `${f}.type`, false);
    if (!(o.type as string in RLIMITS)) throw bad(`${f}.type`, `unknown rlimit "${o.type}"`);
    if (seen.has(o.type as string)) throw bad(`${f}.type`, `${o.type} is set twice`);
    seen.add(o.type as string);
    int(o.soft, `${f}.soft`, 0, Number.MAX_SAFE_INTEGER, false);
    int(o.hard, `${f}.hard`, 0, Number.MAX_SAFE_INTEGER, false);
    if ((o.soft as number) > (o.hard as number)) throw bad(f, `soft limit ${o.soft} is above the hard limit ${o.hard}`);
  });
  bool(proc.noNewPrivileges, `${field}.noNewPrivileges`);
  int(proc.oomScoreAdj, `${field}.oomScoreAdj`, -1000, 1000);
  if (proc.apparmorProfile) throw notImpl(`${field}.apparmorProfile`, 'AppArmor is not supported by Berth yet');
  if (proc.selinuxLabel) throw notImpl(`${field}.selinuxLabel`, 'SELinux is not supported by Berth yet');
  for (const f of ['ioPriority', 'scheduler', 'execCPUAffinity'])
    if (proc[f] !== undefined) throw notImpl(`${field}.${f}`, 'is not supported by Berth yet');
  void forExec;
}

function validateHooks(h: Json): void {
  const hooks = obj(h, 'hooks');
  if (!hooks) return;
  for (const [name, list] of Object.entries(hooks)) {
    if (!['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'].includes(name)) continue;
    arr(list, `hooks.${name}`).forEach((hk, i) => {
      const f = `hooks.${name}[${i}]`;
      const o = obj(hk, f)!;
      str(o.path, `${f}.path`, false);
      if (!(o.path as string).startsWith('/')) throw bad(`${f}.path`, `"${o.path}" must be an absolute path`);
      strArray(o.args, `${f}.args`);
      strArray(o.env, `${f}.env`);
      int(o.timeout, `${f}.timeout`, 1);
    });
  }
}

export interface ValidateOptions {
  /** host fact: is a bind source on a procfs (the one bind allowed on /proc); default: no */
  isProcfs?: (source: string) => boolean;
}

export function validateSpec(raw: Json, opts: ValidateOptions = {}): Spec {
  const s = obj(raw, 'config.json');
  if (!s) throw bad('config.json', 'must be a JSON object');
  str(s.ociVersion, 'ociVersion', false);
  if (!/^1\.[0-9]+\.[0-9]+/.test(s.ociVersion as string)) throw bad('ociVersion', `"${s.ociVersion}" is not a supported 1.x version`);
  const root = obj(s.root, 'root');
  if (!root) throw bad('root', 'is required on Linux');
  str(root.path, 'root.path', false);
  bool(root.readonly, 'root.readonly');
  validateProcess(s.process);
  str(s.hostname, 'hostname');
  str(s.domainname, 'domainname');
  arr(s.mounts, 'mounts').forEach((m, i) => {
    const f = `mounts[${i}]`;
    const o = obj(m, f)!;
    str(o.destination, `${f}.destination`, false);
    if (!(o.destination as string).startsWith('/')) throw bad(`${f}.destination`, `"${o.destination}" must be an absolute path`);
    str(o.source, `${f}.source`);
    str(o.type, `${f}.type`);
    strArray(o.options, `${f}.options`);
    if (o.uidMappings || o.gidMappings) throw notImpl(f, 'id-mapped mounts are not supported by Berth yet');
  });
  validateHooks(s.hooks);
  const linux = obj(s.linux, 'linux');
  if (!linux) throw bad('linux', 'is required');
  const types = new Set<string>();
  arr(linux.namespaces, 'linux.namespaces').forEach((n, i) => {
    const f = `linux.namespaces[${i}]`;
    const o = obj(n, f)!;
    str(o.type, `${f}.type`, false);
    if (!((o.type as string) in NS_FLAG)) throw bad(`${f}.type`, `unknown namespace type "${o.type}"`);
    if (o.type === 'time') throw notImpl(`${f}.type`, 'time namespaces are not supported by Berth yet');
    if (types.has(o.type as string)) throw bad(`${f}.type`, `namespace "${o.type}" is listed twice`);
    types.add(o.type as string);
    str(o.path, `${f}.path`);
  });
  const nsNew = (t: string) => (linux.namespaces as Array<{ type: string; path?: string }> | undefined)?.some((n) => n.type === t && !n.path) ?? false;
  // as runc's validator: no mount namespace is allowed (the process runs in the caller's filesystem), but then
  // nothing of it can be masked or made read-only
  if (!types.has('mount') && ((linux.maskedPaths as unknown[] | undefined)?.length || (linux.readonlyPaths as unknown[] | undefined)?.length))
    throw bad('linux.namespaces', 'unable to restrict sys entries without a private MNT namespace');
  if (!types.has('mount') && (s.root as { readonly?: boolean } | undefined)?.readonly) throw bad('root.readonly', 'a read-only root needs a mount namespace');
  // as runc: a uts namespace joined by path is the container's own too, so its hostname may be set
  if (s.hostname !== undefined && s.hostname !== '' && !types.has('uts')) throw bad('hostname', 'setting the hostname needs a uts namespace');
  if (s.domainname !== undefined && s.domainname !== '' && !nsNew('uts')) throw bad('domainname', 'setting the domainname needs a new uts namespace');
  for (const key of ['uidMappings', 'gidMappings']) {
    arr(linux[key], `linux.${key}`).forEach((m, i) => {
      const f = `linux.${key}[${i}]`;
      const o = obj(m, f)!;
      int(o.containerID, `${f}.containerID`, 0, U32, false);
      int(o.hostID, `${f}.hostID`, 0, U32, false);
      int(o.size, `${f}.size`, 1, U32, false);
    });
  }
  if (nsNew('user') && !(Array.isArray(linux.uidMappings) && linux.uidMappings.length && Array.isArray(linux.gidMappings) && linux.gidMappings.length))
    throw bad('linux.uidMappings', 'a new user namespace needs uidMappings and gidMappings');
  if (!nsNew('user') && (linux.uidMappings || linux.gidMappings) && !types.has('user'))
    throw bad('linux.uidMappings', 'mappings need a user namespace');
  arr(linux.devices, 'linux.devices').forEach((d, i) => {
    const f = `linux.devices[${i}]`;
    const o = obj(d, f)!;
    str(o.path, `${f}.path`, false);
    if (!(o.path as string).startsWith('/dev/')) throw bad(`${f}.path`, `"${o.path}" must be under /dev`);
    if (!['c', 'b', 'u', 'p'].includes(o.type as string)) throw bad(`${f}.type`, `unknown device type "${o.type}"`);
    if (o.type !== 'p') { int(o.major, `${f}.major`, 0, U32, false); int(o.minor, `${f}.minor`, 0, U32, false); }
    int(o.fileMode, `${f}.fileMode`, 0, 0o7777);
    int(o.uid, `${f}.uid`, 0, U32);
    int(o.gid, `${f}.gid`, 0, U32);
  });
  str(linux.cgroupsPath, 'linux.cgroupsPath');
  obj(linux.resources, 'linux.resources');
  str(linux.rootfsPropagation, 'linux.rootfsPropagation');
  const sysctl = obj(linux.sysctl, 'linux.sysctl');
  for (const [k, v] of Object.entries(sysctl ?? {})) {
    str(v, `linux.sysctl["${k}"]`, false);
    if (!/^[a-zA-Z0-9_.\-/]+$/.test(k) || k.includes('..')) throw bad(`linux.sysctl["${k}"]`, 'is not a sysctl name');
    // runc's rule: namespaced sysctls only, and only with their namespace
    const ipc = k.startsWith('kernel.msg') || k.startsWith('kernel.sem') || k.startsWith('kernel.shm') || k.startsWith('fs.mqueue.');
    if (ipc && !nsNew('ipc')) throw bad(`linux.sysctl["${k}"]`, 'needs a new ipc namespace');
    else if (k.startsWith('net.') && !types.has('network')) throw bad(`linux.sysctl["${k}"]`, 'needs a network namespace');
    else if ((k === 'kernel.hostname' || k === 'kernel.domainname') && !nsNew('uts')) throw bad(`linux.sysctl["${k}"]`, 'needs a new uts namespace');
    else if (!ipc && !k.startsWith('net.') && k !== 'kernel.hostname' && k !== 'kernel.domainname')
      throw bad(`linux.sysctl["${k}"]`, 'is not namespaced: it would change the host');
  }
  strArray(linux.maskedPaths, 'linux.maskedPaths');
  strArray(linux.readonlyPaths, 'linux.readonlyPaths');
  (s.mounts as Array<{ destination: string }> | undefined)?.forEach((m, i) => {
    const why = mountRefusal(mountTarget(m, opts.isProcfs), (linux.maskedPaths as string[] | undefined) ?? []);
    if (why) throw bad(`mounts[${i}].destination`, why);
  });
  const seccomp = obj(linux.seccomp, 'linux.seccomp');
  if (seccomp) str(seccomp.defaultAction, 'linux.seccomp.defaultAction', false);
  if (linux.intelRdt !== undefined) throw notImpl('linux.intelRdt', 'Intel RDT is not supported by Berth yet');
  if (linux.mountLabel) throw notImpl('linux.mountLabel', 'SELinux is not supported by Berth yet');
  if (linux.timeOffsets !== undefined) throw notImpl('linux.timeOffsets', 'time namespaces are not supported by Berth yet');
  const pers = obj(linux.personality, 'linux.personality');
  if (pers && !['LINUX', 'LINUX32'].includes(pers.domain as string)) throw bad('linux.personality.domain', `unknown domain "${pers.domain}"`);
  return s as unknown as Spec;
}

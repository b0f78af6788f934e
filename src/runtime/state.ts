// runtime/state: one container's record under <root>/<id>/state.json, written atomically, and its live status.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, errnoCode } from '../errors.js';
import type { Spec, State } from './spec-types.js';
import { replaceFileSync } from '../util/fs.js';
import { privateDir, tightenDir } from '../util/dirs.js';
import { pidStartTime } from '../util/owner.js';

export const DEFAULT_ROOT = '/run/berth/runtime';

export interface ContainerRecord {
  id: string;
  pid: number;           // host pid of the container's process, 0 before it exists
  pidStart: string;      // /proc/<pid>/stat start time: tells a reused pid from ours
  bundle: string;
  rootfs: string;
  created: string;       // ISO time
  cgroupsPath: string;
  spec: Spec;
  creating?: boolean;    // set until create finished: such a record may be half made
  started?: boolean;
}

const ID_RE = /^[\w+\-.]+$/;

export function checkId(id: string | undefined): string {
  if (!id) throw new BerthError('InvalidArgument', 'container id cannot be empty');
  if (!ID_RE.test(id) || id === '.' || id === '..' || id.length > 1024) throw new BerthError('InvalidArgument', `invalid container id format: ${id}`);
  return id;
}

export class StateStore {
  constructor(readonly root = DEFAULT_ROOT) { tightenDir(root); }

  dir(id: string): string { return path.join(this.root, checkId(id)); }
  fifo(id: string): string { return path.join(this.dir(id), 'exec.fifo'); }

  /** Claims the id: fails with Conflict if it is taken. */
  claim(id: string, again = false): string {
    // the root is made (and its mode set) once per store, again only if it went meanwhile: a daemon claims one per start
    if (!this.rootMade) { privateDir(this.root); this.rootMade = true; }
    const dir = this.dir(id);
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') throw new BerthError('Conflict', `container with id ${id} already exists`);
      if (errnoCode(e) === 'ENOENT' && !again) { this.rootMade = false; return this.claim(id, true); }
      throw e;
    }
    return dir;
  }

  private rootMade = false;

  /**
   * `specJson`: JSON.stringify(r.spec), when the caller saves one record more than once while its spec
   * stays as it is (create: the spec, ~9 kB with its seccomp profile, is most of the record).
   */
  save(r: ContainerRecord, specJson?: string): void {
    // a key's name can appear only as a key: inside a JSON string its quotes are escaped
    const text = specJson === undefined ? JSON.stringify(r) : JSON.stringify({ ...r, spec: 0 }).replace('"spec":0', () => `"spec":${specJson}`);
    // under /run: atomic against our own death, no fsync (see replaceFileSync)
    replaceFileSync(path.join(this.dir(r.id), 'state.json'), text, 0o600);
  }

  load(id: string): ContainerRecord {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir(id), 'state.json'), 'utf8')) as ContainerRecord;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw new BerthError('NotFound', `container ${id} does not exist`);
      throw new BerthError('Internal', `read state of ${id}: ${(e as Error).message}`, { cause: e });
    }
  }

  list(): string[] {
    try {
      return fs.readdirSync(this.root).filter((n) => ID_RE.test(n) && fs.existsSync(path.join(this.root, n, 'state.json'))).sort();
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
  }

  remove(id: string): void {
    const dir = this.dir(id);
    // berthd clears a record at every start, where there is none mostly: one stat, not three failed calls
    if (!fs.existsSync(dir)) return;
    // What we put there, then the directory: rmSync's recursive walk loads and runs Node's whole rimraf
    // (~10 ms of a cold `berth runtime run` under strace). Anything else in it (a leftover temp file)
    // takes that path.
    try {
      for (const f of ['state.json', 'exec.fifo']) {
        try { fs.unlinkSync(path.join(dir, f)); } catch (e) { if (errnoCode(e) !== 'ENOENT') throw e; }
      }
      fs.rmdirSync(dir);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/**
 * JSON.stringify(spec), with the text of a frozen seccomp profile made once per profile: berthd's specs
 * share one frozen default profile (seccomp/default-profile sharedDockerDefaultProfile), ~7 of a spec's
 * ~9 kB, and serialising its hundreds of syscall names was most of a start's stringify work (issue 13).
 * Frozen, its text cannot change. The same text as JSON.stringify(spec), key for key.
 */
export function specText(spec: Spec): string {
  const profile = spec.linux?.seccomp;
  if (!profile || !Object.isFrozen(profile)) return JSON.stringify(spec);
  let text = profileTexts.get(profile);
  if (text === undefined) profileTexts.set(profile, (text = JSON.stringify(profile)));
  const t = text;
  // as in save: a key's name can appear only as a key (inside a JSON string its quotes are escaped), and
  // seccomp is a key of linux alone
  return JSON.stringify({ ...spec, linux: { ...spec.linux, seccomp: 0 } }).replace('"seccomp":0', () => `"seccomp":${t}`);
}
const profileTexts = new WeakMap<object, string>();

export { pidStartTime } from '../util/owner.js';

export function isAlive(r: ContainerRecord): boolean {
  return r.pid > 0 && pidStartTime(r.pid) === r.pidStart;
}

export type Status = State['status'];

/** runc's rules: gone -> stopped; frozen -> paused; exec.fifo still there -> created; else running. */
export function statusOf(store: StateStore, r: ContainerRecord, frozen: () => boolean): Status {
  if (r.creating) return isAlive(r) ? 'creating' : 'stopped';
  if (!isAlive(r)) return 'stopped';
  if (frozen()) return 'paused';
  if (fs.existsSync(store.fifo(r.id))) return 'created';
  return 'running';
}

export function ociState(r: ContainerRecord, status: Status): State & { rootfs: string; created: string; owner: string } {
  return {
    ociVersion: r.spec.ociVersion,
    id: r.id,
    pid: status === 'stopped' ? 0 : r.pid,
    status,
    bundle: r.bundle,
    rootfs: r.rootfs,
    created: r.created,
    owner: '',
    annotations: r.spec.annotations ?? {},
  };
}

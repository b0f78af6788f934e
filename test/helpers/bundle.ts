// test/helpers/bundle: OCI bundles over the busybox rootfs, and a way to run `berth runtime` in tests.
import { execFile, spawn, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultSpec } from '../../src/runtime/defaults.js';
import type { Spec } from '../../src/runtime/spec-types.js';
import { buildProbe, busyboxRootfs, copyRootfs } from './rootfs.js';

// the entry the installed `berth` runs (package.json bin): the fast path, handing other commands to berth.js
export const BERTH = fileURLToPath(new URL('../../bin/cli/berth.cjs', import.meta.url));
export const isRoot = process.getuid?.() === 0;

export interface Result { code: number; stdout: string; stderr: string }

export function run(cmd: string, args: string[], opts: SpawnOptions & { input?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout!.on('data', (d) => { stdout += d; });
    child.stderr!.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    const done = (code: number | null, sig: NodeJS.Signals | null) => resolve({ code: code ?? 128 + (sig ? os.constants.signals[sig] : 0), stdout, stderr });
    child.on('close', done);
    // A detached container keeps our pipes as its stdio (as with runc): after exit, give output a moment, then go on.
    child.on('exit', (code, sig) => setTimeout(() => done(code, sig), 200).unref());
    child.stdin!.on('error', () => { /* EPIPE: it exited before reading its input (a quick failure); its exit says how */ });
    child.stdin!.end(opts.input ?? '');
  });
}

/** A private state root per test file, so tests never see /run/berth. */
export class Runtime {
  readonly root = fs.mkdtempSync('/run/berth-test-');
  berth(args: string[], opts: SpawnOptions & { input?: string } = {}): Promise<Result> {
    return run(process.execPath, [BERTH, 'runtime', '--root', this.root, ...args], opts);
  }
  async cleanup(): Promise<void> {
    for (const id of fs.readdirSync(this.root)) await this.berth(['delete', '-f', id]);
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

let counter = 0;
export function uniqueId(prefix = 't'): string {
  return `${prefix}-${process.pid}-${++counter}-${Math.random().toString(16).slice(2, 6)}`;
}

export interface Bundle { dir: string; spec: Spec; id: string; cgroupsPath: string }

/** A bundle running `probe facts` by default; root.path is the shared read-only rootfs unless copyRoot. */
export async function makeBundle(edit?: (s: Spec) => void, opts: { copyRoot?: boolean } = {}): Promise<Bundle> {
  await buildProbe();
  const rootfs = await busyboxRootfs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bundle-'));
  const spec = defaultSpec();
  const id = uniqueId();
  spec.process!.terminal = false;
  spec.process!.args = ['/bin/probe', 'facts'];
  spec.linux!.cgroupsPath = `/berth-test/${id}`;
  if (opts.copyRoot) {
    await copyRootfs(path.join(dir, 'rootfs'));
    spec.root = { path: 'rootfs', readonly: false };
  } else {
    spec.root = { path: rootfs, readonly: true };
  }
  edit?.(spec);
  // a runtime makes missing mount points in the root, read-only or not, and a writable root may be
  // written: the shared cached rootfs must not collect either (a later test would find them there), so
  // such a bundle gets a copy of its own
  // (a mount point inside another mount, such as /dev/pts in /dev's tmpfs, is made there, not in the root)
  const dests = (spec.mounts ?? []).map((m) => path.posix.normalize(m.destination));
  const inMount = (d: string) => dests.some((o) => o !== d && d.startsWith(o === '/' ? o : `${o}/`));
  const missing = dests.some((d) => !inMount(d) && !fs.existsSync(path.join(rootfs, d)));
  if (spec.root?.path === rootfs && (missing || !spec.root.readonly)) {
    fs.chmodSync(dir, 0o755); // a user namespace's root (an unprivileged uid on the host) must reach it
    await copyRootfs(path.join(dir, 'rootfs'));
    spec.root = { ...spec.root, path: 'rootfs' };
  }
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2));
  return { dir, spec, id, cgroupsPath: spec.linux!.cgroupsPath! };
}

export function rmBundle(b: Bundle): void {
  fs.rmSync(b.dir, { recursive: true, force: true });
}

export function parseJSON<T = Record<string, unknown>>(r: Result): T {
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): stdout=${r.stdout} stderr=${r.stderr}`);
  }
}

/** Every v1 controller directory (or the v2 directory) a cgroupsPath would have. */
export function cgroupDirs(cgroupsPath: string): string[] {
  const dirs: string[] = [];
  for (const c of fs.readdirSync('/sys/fs/cgroup')) dirs.push(path.join('/sys/fs/cgroup', c, cgroupsPath));
  return dirs;
}

export function execFileText(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, (e, out) => (e ? reject(e) : resolve(out))));
}

/** Docker's default seccomp profile for the default spec's capabilities. */
export async function dockerSeccomp(caps: string[]) {
  const { dockerDefaultProfile } = await import('../../src/runtime/seccomp/index.js');
  return dockerDefaultProfile({ capabilities: caps, kernel: os.release() });
}

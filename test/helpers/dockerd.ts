// test/helpers/dockerd: Debian's containerd + dockerd (docker.io) on a socket and dirs of the test's own, as
// bench/peers.sh starts them: no default bridge and no iptables, so dockerd's rules (FORWARD DROP) never
// reach the host's other tests; stopped, with its containers, networks, mounts and files, by stop().
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from '../../src/client/index.js';
import { pingSocket } from './daemon.js';

export interface Dockerd {
  dir: string; socket: string; host: string;
  /** DOCKER_HOST and BERTH_HOST at this dockerd, a DOCKER_CONFIG of its own */
  env: NodeJS.ProcessEnv;
  log(): string;
  stop(): Promise<void>;
}

const onPath = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** Why a test cannot start dockerd here, or undefined. */
export function dockerdMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  const lacking = ['dockerd', 'containerd'].filter((t) => !onPath(t));
  return lacking.length ? `needs ${lacking.join(' and ')} on PATH (Debian's docker.io; not in scripts/install-deps.sh)` : undefined;
}

async function until(what: string, ok: () => Promise<boolean> | boolean, ms: number, log: () => string): Promise<void> {
  for (const end = Date.now() + ms; !(await ok());) {
    if (Date.now() > end) throw new Error(`${what} did not start: ${log().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const gone = (c: ChildProcess, ms: number) => new Promise<void>((resolve) => {
  if (c.exitCode !== null || c.signalCode !== null) { resolve(); return; }
  const t = setTimeout(() => { c.kill('SIGKILL'); }, ms);
  c.once('exit', () => { clearTimeout(t); resolve(); });
});

export async function startDockerd(): Promise<Dockerd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dockerd-'));
  const socket = path.join(dir, 'docker.sock');
  const logFile = path.join(dir, 'daemons.log');
  const log = () => { try { return fs.readFileSync(logFile, 'utf8'); } catch { return ''; } };
  const out = fs.openSync(logFile, 'a');
  const ctrSock = path.join(dir, 'containerd', 'sock');
  const containerd = spawn('containerd', ['--root', path.join(dir, 'containerd', 'root'), '--state', path.join(dir, 'containerd', 'state'), '--address', ctrSock], { stdio: ['ignore', out, out] });
  let dockerd: ChildProcess | undefined;
  const stop = async () => {
    if (dockerd && dockerd.exitCode === null && dockerd.signalCode === null) {
      const c = new Client(`unix://${socket}`);
      try {
        for (const x of await c.listContainers({ all: true })) await c.removeContainer(x.Id, { force: true, volumes: true }).catch(() => undefined);
        // user networks' bridges (br-…) outlive dockerd
        for (const n of await c.json<Array<{ Id: string; Name: string }>>('GET', '/networks')) {
          if (!['bridge', 'host', 'none'].includes(n.Name)) await c.drain('DELETE', `/networks/${n.Id}`).catch(() => undefined);
        }
      } catch { /* not answering */ }
      dockerd.kill('SIGTERM');
      await gone(dockerd, 15_000);
    }
    containerd.kill('SIGTERM');
    await gone(containerd, 10_000);
    // dockerd's overlays and its data root bound on itself, deepest first
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(`${dir}/`)).sort().reverse();
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until('containerd', () => fs.existsSync(ctrSock), 30_000, log);
    dockerd = spawn('dockerd', ['--containerd', ctrSock, '--data-root', path.join(dir, 'root'), '--exec-root', path.join(dir, 'exec'), '--pidfile', path.join(dir, 'dockerd.pid'),
      '-H', `unix://${socket}`, '--iptables=false', '--ip6tables=false', '--bridge=none', '--storage-driver=overlay2'], { stdio: ['ignore', out, out] });
    await until('dockerd', async () => (await pingSocket(socket)) === 200, 60_000, log);
  } catch (e) {
    await stop();
    throw e;
  } finally { fs.closeSync(out); }
  const host = `unix://${socket}`;
  return { dir, socket, host, log, stop, env: { ...process.env, DOCKER_HOST: host, BERTH_HOST: host, DOCKER_CONFIG: path.join(dir, 'docker-config'), DOCKER_API_VERSION: '' } };
}

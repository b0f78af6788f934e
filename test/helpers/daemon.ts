// test/helpers/daemon: starts the compiled berthd on a temp socket with a temp --root, waits for
// /_ping, and stops it (SIGTERM, then SIGKILL) and removes everything it made.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BERTH } from './bundle.js';
import { Client } from '../../src/client/index.js';

export interface Daemon {
  dir: string; socket: string; root: string; host: string; pid: number;
  /** DOCKER_HOST/BERTH_HOST env for child processes */
  env: NodeJS.ProcessEnv;
  log(): string;
  stop(): Promise<void>;
  /** kill -9 the daemon (its containers keep running), then start a new one on the same socket and root */
  crashAndRestart(): Promise<void>;
}

/** The shipped bundle dist/bin/daemon/berthd.js, found from dist/test/helpers. */
export function berthdPath(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/daemon/berthd.js');
}

export function pingSocket(socket: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ socketPath: socket, method: 'GET', path: '/_ping' }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', () => resolve(0));
    req.end();
  });
}

export async function startDaemon(extraArgs: string[] = []): Promise<Daemon> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berthd-'));
  const socket = path.join(dir, 'berth.sock');
  const root = path.join(dir, 'root');
  const logFile = path.join(dir, 'berthd.log');
  const log = () => { try { return fs.readFileSync(logFile, 'utf8'); } catch { return ''; } };
  const launch = async (): Promise<ChildProcess> => {
    const out = fs.openSync(logFile, 'a');
    const c: ChildProcess = spawn(process.execPath, [berthdPath(), '-H', `unix://${socket}`, '--root', root, '--debug', ...extraArgs], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    for (let i = 0; ; i++) {
      if ((await pingSocket(socket)) === 200) return c;
      if (c.exitCode !== null || i > 200) { c.kill('SIGKILL'); const l = log(); fs.rmSync(dir, { recursive: true, force: true }); throw new Error(`berthd did not start: ${l}`); }
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  let child = await launch();
  const host = `unix://${socket}`;
  return {
    dir, socket, root, host, get pid() { return child.pid!; }, log,
    async crashAndRestart() {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
      fs.rmSync(socket, { force: true });
      child = await launch();
    },
    env: { ...process.env, DOCKER_HOST: host, BERTH_HOST: host, DOCKER_CONFIG: path.join(dir, 'docker-config') },
    async stop() {
      // containers outlive the daemon by design: remove them first, or a failed test leaks monitors and mounts
      if (child.exitCode === null && child.signalCode === null) {
        const client = new Client(host);
        try {
          for (const c of await client.listContainers({ all: true })) await client.removeContainer(c.Id, { force: true }).catch(() => undefined);
        } catch { /* the daemon is not answering */ }
      }
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await gone; }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `berth ARGS` — the shipped CLI, which hands docker's commands to berthd. */
export async function berth(args: string[], env: NodeJS.ProcessEnv, input?: Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BERTH, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdin!.end(input);
  const rc = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  return { code: rc, stdout, stderr };
}

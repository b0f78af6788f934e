// POST /exec/{id}/start without `Upgrade: tcp`, as dockerode sends it: dockerd answers 200 and streams
// the output in the body, multiplexed unless the start request asks for a TTY (berth answered 400).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxRootfs } from '../helpers/rootfs.js';
import { haveTool, ociLayout, REGISTRY_BIN, skopeo, tarDir, type Registry } from '../helpers/registry.js';
import { startDaemonAndRegistry, type Daemon } from '../helpers/daemon.js';

const DOCKER = '/usr/local/bin/docker';
const missing = process.getuid?.() !== 0 ? 'needs root' : !haveTool(REGISTRY_BIN) ? 'needs docker-registry' : !haveTool('skopeo') ? 'needs skopeo' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : undefined;

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(DOCKER, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function call(socket: string, method: string, p: string, body?: unknown): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: p, headers: body ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

/** stdcopy frames → [stream, text] pairs */
function demux(b: Buffer): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (let i = 0; i + 8 <= b.length;) {
    const n = b.readUInt32BE(i + 4);
    out.push([b[i]!, b.subarray(i + 8, i + 8 + n).toString()]);
    i += 8 + n;
  }
  return out;
}

describe('exec start without an upgrade', { skip: missing }, () => {
  let d: Daemon;
  let reg: Registry;

  before(async () => {
    [d, reg] = await startDaemonAndRegistry();
    const work = path.join(d.dir, 'work');
    await ociLayout(path.join(work, 'oci-bb'), [await tarDir(await busyboxRootfs())], { cmd: ['sh'] });
    await skopeo('copy', '--dest-tls-verify=false', `oci:${work}/oci-bb:latest`, `docker://${reg.host}/busybox:latest`);
    const r = await run(['run', '-d', '--name', 'ex1', `${reg.host}/busybox:latest`, 'sleep', '1000'], d.env);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    if (d) await run(['rm', '-f', 'ex1'], d.env).catch(() => undefined);
    await Promise.all([d?.stop(), reg?.stop()]);
  });

  const create = async (tty: boolean): Promise<string> => {
    const c = await call(d.socket, 'POST', '/containers/ex1/exec', { AttachStdout: true, AttachStderr: true, Tty: tty, Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    assert.equal(c.status, 201, c.body.toString());
    return JSON.parse(c.body.toString()).Id;
  };

  test('200 with multiplexed stdout and stderr, then the exit code', async () => {
    const id = await create(false);
    const r = await call(d.socket, 'POST', `/exec/${id}/start`, { Detach: false, Tty: false });
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.type, 'application/vnd.docker.multiplexed-stream');
    const frames = demux(r.body);
    assert.equal(frames.filter(([s]) => s === 1).map(([, t]) => t).join(''), 'out\n');
    assert.equal(frames.filter(([s]) => s === 2).map(([, t]) => t).join(''), 'err\n');
    assert.equal(JSON.parse((await call(d.socket, 'GET', `/exec/${id}/json`)).body.toString()).ExitCode, 3);
  });

  test('Tty in the start request gives the raw stream', async () => {
    const id = await create(true);
    const r = await call(d.socket, 'POST', `/exec/${id}/start`, { Detach: false, Tty: true });
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.type, 'application/vnd.docker.raw-stream');
    assert.match(r.body.toString(), /out\r?\n/);
  });

  test('a program that cannot be started: 126 when not runnable, 127 when missing, like docker exec', async () => {
    // x bit but no format the kernel knows: execve fails with ENOEXEC after the process was released
    const prep = await run(['exec', 'ex1', 'sh', '-c', 'printf "\\001\\002garbage" > /tmp/notprog && chmod +x /tmp/notprog'], d.env);
    assert.equal(prep.code, 0, prep.stderr);
    for (const [cmd, code] of [['/tmp/notprog', 126], ['/etc', 126], ['/etc/passwd', 126], ['no-such-program', 127], ['/no/such/file', 127]] as const) {
      const r = await run(['exec', 'ex1', cmd], d.env);
      assert.equal(r.code, code, `${cmd}: ${r.code} ${r.stderr}`);
      const id = (await call(d.socket, 'POST', '/containers/ex1/exec', { AttachStdout: true, AttachStderr: true, Cmd: [cmd] }));
      const execId = JSON.parse(id.body.toString()).Id as string;
      await call(d.socket, 'POST', `/exec/${execId}/start`, { Detach: false, Tty: false });
      // an ended exec stays ended: a poll with a deadline (a hang guard; the 5 s it had, a loaded machine outlasts)
      let info = { Running: true, ExitCode: null as number | null };
      for (const end = Date.now() + 60_000; ;) {
        info = JSON.parse((await call(d.socket, 'GET', `/exec/${execId}/json`)).body.toString()) as typeof info;
        if ((!info.Running && info.ExitCode !== null) || Date.now() > end) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(info.Running, false, `${cmd}: exec never ended`);
      assert.equal(info.ExitCode, code, `${cmd}: inspect ExitCode`);
    }
  });

  test('DetachKeys of the exec config detach the client and leave the process running', async (t) => {
    const c = await call(d.socket, 'POST', '/containers/ex1/exec', { AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: true, DetachKeys: 'ctrl-x', Cmd: ['sh'] });
    assert.equal(c.status, 201, c.body.toString());
    const execId = JSON.parse(c.body.toString()).Id as string;
    const sock = net.connect(d.socket);
    t.after(() => sock.destroy()); // a failure below must not leave the connection (and the daemon's side) open
    const body = JSON.stringify({ Detach: false, Tty: true });
    sock.write(`POST /exec/${execId}/start HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    let out = '';
    const ended = new Promise<void>((resolve) => { sock.on('end', resolve); sock.on('close', () => resolve()); });
    sock.on('data', (b) => { out += b.toString('latin1'); });
    for (const end = Date.now() + 30_000; Date.now() < end && !out.includes('101');) await new Promise((r) => setTimeout(r, 20));
    assert.match(out, /^HTTP\/1\.1 101/);
    sock.write('echo mark-$((6*7))\n');
    for (const end = Date.now() + 30_000; Date.now() < end && !out.includes('mark-42');) await new Promise((r) => setTimeout(r, 20));
    assert.match(out, /mark-42/, 'the shell answers before the detach');
    sock.write(Buffer.of(0x18)); // ctrl-x
    // a hang guard, not a timing check: 5 s was within reach of a loaded machine's scheduling
    let guard: NodeJS.Timeout | undefined;
    await Promise.race([ended, new Promise((_, rej) => { guard = setTimeout(() => rej(new Error('the stream did not end on the detach keys')), 60_000); })])
      .finally(() => clearTimeout(guard));
    sock.destroy();
    const info = JSON.parse((await call(d.socket, 'GET', `/exec/${execId}/json`)).body.toString()) as { Running: boolean; Pid: number };
    assert.equal(info.Running, true, 'the exec process keeps running after the client detached');
    process.kill(info.Pid, 'SIGKILL');
  });
});

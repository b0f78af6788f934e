// `docker kill` (SIGKILL) answers only once the container has exited, as dockerd does: an inspect right
// after sees it exited with 137 and a plain `docker rm` succeeds instead of a 409 "container is running".
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxRootfs } from '../helpers/rootfs.js';
import { haveTool, ociLayout, REGISTRY_BIN, skopeo, tarDir, type Registry } from '../helpers/registry.js';
import { startDaemonAndRegistry, type Daemon } from '../helpers/daemon.js';

const DOCKER = '/usr/local/bin/docker';
const missing = process.getuid?.() !== 0 ? 'needs root' : !haveTool(REGISTRY_BIN) ? 'needs docker-registry' : !haveTool('skopeo') ? 'needs skopeo' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : undefined;

interface Out { code: number; stdout: string; stderr: string }

function run(args: string[], env: NodeJS.ProcessEnv): Promise<Out> {
  return new Promise((resolve) => {
    const child = spawn(DOCKER, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function call(socket: string, method: string, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: p }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('docker kill waits for the exit', { skip: missing }, () => {
  let d: Daemon;
  let reg: Registry;
  let bb: string;
  const ok = async (args: string[]): Promise<string> => {
    const r = await run(args, d.env);
    assert.equal(r.code, 0, `docker ${args.join(' ')} → ${r.code}: ${r.stderr}\n${d.log().slice(-3000)}`);
    return r.stdout.trim();
  };

  before(async () => {
    [d, reg] = await startDaemonAndRegistry();
    const work = path.join(d.dir, 'work');
    await ociLayout(path.join(work, 'oci-bb'), [await tarDir(await busyboxRootfs())], { cmd: ['sh'] });
    await skopeo('copy', '--dest-tls-verify=false', `oci:${work}/oci-bb:latest`, `docker://${reg.host}/busybox:latest`);
    bb = `${reg.host}/busybox:latest`;
    await ok(['pull', bb]);
  });
  after(async () => {
    if (d) await run(['rm', '-f', 'k1', 'k2'], d.env).catch(() => undefined);
    await Promise.all([d?.stop(), reg?.stop()]);
  });

  test('after kill, inspect shows exited 137 and rm needs no force', async () => {
    // a shell that ignores nothing but has a child keeps the cgroup busy for a moment after the signal
    await ok(['run', '-d', '--name', 'k1', bb, 'sh', '-c', 'trap "" TERM; sleep 1000 & wait']);
    await ok(['kill', 'k1']);
    assert.equal(await ok(['inspect', '-f', '{{.State.Status}} {{.State.Running}} {{.State.ExitCode}}', 'k1']), 'exited false 137');
    await ok(['rm', 'k1']);
  });

  test('right after POST /kill the API shows it exited and DELETE succeeds', async () => {
    await ok(['run', '-d', '--name', 'k2', bb, 'sleep', '1000']);
    assert.equal((await call(d.socket, 'POST', '/containers/k2/kill')).status, 204);
    const st = JSON.parse((await call(d.socket, 'GET', '/containers/k2/json')).body).State;
    assert.deepEqual([st.Status, st.Running, st.ExitCode], ['exited', false, 137]);
    const rm = await call(d.socket, 'DELETE', '/containers/k2');
    assert.equal(rm.status, 204, rm.body);
  });
});

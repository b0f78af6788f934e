// docker login succeeds only when the registry answers 2xx to GET /v2/ with the credentials (moby
// loginV2): a registry that asks for credentials and then answers 431 is no "Login Succeeded".
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDaemon, type Daemon } from '../helpers/daemon.js';

const DOCKER = '/usr/local/bin/docker';
const missing = process.getuid?.() !== 0 ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : undefined;

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(DOCKER, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('docker login checks the registry answer', { skip: missing }, () => {
  let d: Daemon;
  let srv: http.Server;
  let host: string;
  /** status of GET /v2/ with an Authorization header */
  let withCreds = 431;

  before(async () => {
    d = await startDaemon();
    srv = http.createServer((req, res) => {
      if (!req.headers.authorization) { res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end(); return; }
      res.writeHead(withCreds).end();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  });
  after(async () => {
    await d?.stop();
    srv?.close();
  });

  const login = () => run(['login', '-u', 'u', '-p', 'p', host], { ...d.env, DOCKER_CONFIG: path.join(d.dir, 'dockercfg') });

  test('a 431 with the credentials fails the login', async () => {
    withCreds = 431;
    const r = await login();
    assert.notEqual(r.code, 0, r.stdout);
    assert.doesNotMatch(r.stdout, /Login Succeeded/);
    assert.match(r.stderr, /login attempt to .* failed with status: 431/);
  });

  test('a 200 with the credentials is a login', async () => {
    withCreds = 200;
    const r = await login();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Login Succeeded/);
  });
});

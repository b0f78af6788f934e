// Swarm and plugin endpoints answer like a dockerd that is in no swarm and has no plugins (moby's harness
// and docker-py depend on these exact answers).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createApiServer, listenUnix, type ApiServices } from '../../src/api/server.js';
import { EventBus } from '../../src/daemon/events.js';
import { ImageService } from '../../src/images/index.js';

function call(socket: string, method: string, p: string): Promise<{ status: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: p }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => { b += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body: b }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('absent features: swarm and plugins', () => {
  let dir: string;
  let socket: string;
  let server: http.Server;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-absent-'));
    socket = path.join(dir, 'api.sock');
    const root = path.join(dir, 'root');
    const s: ApiServices = { images: new ImageService({ root }), events: new EventBus(), root, host: () => { throw new Error('unused'); } };
    server = createApiServer(s);
    await listenUnix(server, { socket });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const notManager = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

  test('swarm objects: 503 with dockerd\'s "not a swarm manager" message, bare and versioned', async () => {
    for (const [m, p] of [['GET', '/swarm'], ['GET', '/v1.41/nodes'], ['GET', '/services'], ['POST', '/services/create'], ['GET', '/tasks'],
      ['GET', '/v1.25/secrets'], ['GET', '/configs'], ['DELETE', '/nodes/abc'], ['GET', '/tasks/x/logs'], ['POST', '/swarm/update']]) {
      const r = await call(socket, m!, p!);
      assert.equal(r.status, 503, `${m} ${p}`);
      assert.equal(r.type, 'application/json');
      assert.deepEqual(JSON.parse(r.body), { message: notManager }, `${m} ${p}`);
    }
  });

  test('swarm leave: 503 "not part of a swarm"; init is refused as unsupported', async () => {
    const leave = await call(socket, 'POST', '/v1.41/swarm/leave?force=1');
    assert.equal(leave.status, 503);
    assert.deepEqual(JSON.parse(leave.body), { message: 'This node is not part of a swarm' });
    assert.equal((await call(socket, 'POST', '/swarm/init')).status, 501);
  });

  test('plugins: an empty list; a named plugin is not found, with the name as given', async () => {
    const ls = await call(socket, 'GET', '/plugins');
    assert.equal(ls.status, 200);
    assert.deepEqual(JSON.parse(ls.body), []);
    assert.equal((await call(socket, 'GET', `/plugins?filters=${encodeURIComponent('{"nope":["x"]}')}`)).status, 400);
    const one = await call(socket, 'GET', '/plugins/vieux/sshfs:latest/json');
    assert.equal(one.status, 404);
    assert.deepEqual(JSON.parse(one.body), { message: 'plugin "vieux/sshfs:latest" not found' });
    assert.equal((await call(socket, 'DELETE', '/plugins/foo')).status, 404);
    assert.equal((await call(socket, 'POST', '/plugins/foo/enable')).status, 404);
  });
});

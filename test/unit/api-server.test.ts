// The API as a function of services, in process on a temp socket (no root): middleware headers,
// version checks, errors, /_ping, /version, /info, /events streaming, empty image endpoints.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createApiServer, listenUnix, type ApiServices } from '../../src/api/server.js';
import { ApiError, Client } from '../../src/client/index.js';
import { EventBus, eventNs, type EventMessage } from '../../src/daemon/events.js';
import { unixText } from '../../src/util/timestamp.js';
import type { HostFacts } from '../../src/daemon/host.js';
import { ImageService } from '../../src/images/index.js';

const FACTS: HostFacts = { engineId: 'id-1', hostname: 'h', kernel: '6.1.0', operatingSystem: 'Test OS', osVersion: '1', arch: 'x86_64', goArch: 'amd64', ncpu: 3, memTotal: 1 << 30, cgroupMode: 'v2', backingFs: 'extfs', openFds: 5 };

function raw(socket: string, method: string, p: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: p, headers }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => { b += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('api server in process', () => {
  let dir: string;
  let socket: string;
  let server: http.Server;
  let s: ApiServices;
  let c: Client;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-api-'));
    socket = path.join(dir, 'api.sock');
    s = { images: new ImageService({ root: path.join(dir, 'root') }), events: new EventBus(), root: path.join(dir, 'root'), host: () => FACTS, containers: { counts: () => ({ running: 2, paused: 1, stopped: 3 }) } };
    server = createApiServer(s);
    await listenUnix(server, { socket });
    c = new Client(`unix://${socket}`);
  });
  after(async () => {
    c.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('socket mode is 0660', () => {
    assert.equal(fs.statSync(socket).mode & 0o777, 0o660);
  });

  test('ping: HEAD and GET, headers on every response', async () => {
    for (const m of ['HEAD', 'GET']) {
      const r = await raw(socket, m, '/_ping');
      assert.equal(r.status, 200);
      assert.equal(r.headers['api-version'], '1.50');
      assert.equal(r.headers.ostype, 'linux');
      assert.equal(r.headers['docker-experimental'], 'false');
      assert.equal(r.headers.server, 'Docker/28.2.2 (linux)');
      assert.equal(r.headers['cache-control'], 'no-cache, no-store, must-revalidate');
      assert.equal(r.body, m === 'GET' ? 'OK' : '');
    }
    const v = await raw(socket, 'GET', '/v1.44/_ping');
    assert.equal(v.status, 200);
    const nf = await raw(socket, 'GET', '/v1.50/nope');
    assert.equal(nf.headers['api-version'], '1.50');
  });

  test('errors: page not found, version bounds, exact content type', async () => {
    const nf = await raw(socket, 'GET', '/nothing');
    assert.deepEqual([nf.status, nf.headers['content-type'], JSON.parse(nf.body)], [404, 'application/json', { message: 'page not found' }]);
    const neu = await raw(socket, 'GET', '/v1.99/version');
    assert.deepEqual([neu.status, JSON.parse(neu.body)], [400, { message: 'client version 1.99 is too new. Maximum supported API version is 1.50' }]);
    const old = await raw(socket, 'GET', '/v1.11/version');
    assert.equal(old.status, 400);
    assert.match(JSON.parse(old.body).message, /client version 1.11 is too old. Minimum supported API version is 1.12/);
    const img = await raw(socket, 'GET', '/v1.50/images/localhost:5000/a/b:t/json');
    assert.deepEqual([img.status, img.headers['content-type'], JSON.parse(img.body)], [404, 'application/json', { message: 'No such image: localhost:5000/a/b:t' }]);
    const bad = await raw(socket, 'POST', '/auth', '{"username": tru', { 'Content-Type': 'application/json' });
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message, /^invalid JSON: /);
    const ct = await raw(socket, 'POST', '/auth', 'x', { 'Content-Type': 'text/plain' });
    assert.match(JSON.parse(ct.body).message, /unsupported Content-Type header \(text\/plain\)/);
    await assert.rejects(c.removeImage('nope'), (e: unknown) => e instanceof ApiError && e.status === 404 && e.kind === 'NotFound' && e.message === 'No such image: nope:latest');
    const tag = await raw(socket, 'POST', '/images/x/tag');
    assert.equal(tag.status, 400);
    const filt = await raw(socket, 'GET', '/images/json?filters=%7Bnope');
    assert.equal(filt.status, 400);
    const unk = await raw(socket, 'GET', '/images/json?filters=%7B%22color%22%3A%5B%22red%22%5D%7D');
    assert.deepEqual(JSON.parse(unk.body), { message: "invalid filter 'color'" });
  });

  test('version and info carry the host facts and container counts', async () => {
    const v = await c.versionInfo();
    assert.equal(v.ApiVersion, '1.50');
    assert.equal(v.MinAPIVersion, '1.12');
    assert.equal(v.KernelVersion, '6.1.0');
    assert.equal(v.Components[0]!.Name, 'Engine');
    const i = await c.info();
    assert.deepEqual([i.Containers, i.ContainersRunning, i.ContainersPaused, i.ContainersStopped, i.Images], [6, 2, 1, 3, 0]);
    assert.deepEqual([i.Driver, i.CgroupVersion, i.NCPU, i.MemTotal, i.OperatingSystem, i.DockerRootDir, i.ID], ['overlay2', '2', 3, 1 << 30, 'Test OS', s.root, 'id-1']);
    assert.deepEqual(i.DriverStatus[0], ['Backing Filesystem', 'extfs']);
    assert.ok(i.SecurityOptions.every((o) => o.startsWith('name=')));
    // unversioned, as docker-py asks
    const u = JSON.parse((await raw(socket, 'GET', '/version')).body) as { ApiVersion: string };
    assert.equal(u.ApiVersion, '1.50');
  });

  test('empty store: list, df, prune', async () => {
    assert.deepEqual(await c.listImages(), []);
    assert.deepEqual(await c.df(), { LayersSize: 0, Images: [], Containers: [], Volumes: [], BuildCache: [] });
    assert.deepEqual(await c.pruneImages(), { ImagesDeleted: null, SpaceReclaimed: 0 });
    const save = await raw(socket, 'GET', '/images/get?names=nope');
    assert.equal(save.status, 404);
  });

  test('events: headers at once, live events filtered, replay with since/until', async () => {
    const got: EventMessage[] = [];
    const ac = new AbortController();
    const headersAt = Date.now();
    const done = c.events({ filters: { type: ['image'] }, signal: ac.signal }, (e) => got.push(e));
    // the request resolves on headers, before any event exists (polled, not a fixed wait: a loaded machine is slow)
    const until = async (ok: () => boolean) => { for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 25)); };
    await until(() => s.events.listenerCount === 1);
    assert.equal(s.events.listenerCount, 1);
    s.events.publish('container', 'start', 'c'.repeat(64), {});
    s.events.publish('image', 'pull', 'busybox:latest', { name: 'busybox' });
    await until(() => got.length > 0);
    ac.abort();
    await done;
    assert.deepEqual(got.map((e) => [e.Type, e.Action, e.Actor.ID, e.status, e.id]), [['image', 'pull', 'busybox:latest', 'pull', 'busybox:latest']]);
    const replayed: EventMessage[] = [];
    await c.events({ since: String(Math.floor(headersAt / 1000) - 1), until: String(Math.floor(Date.now() / 1000) + 1) }, (e) => replayed.push(e));
    assert.deepEqual(replayed.map((e) => e.Action), ['start', 'pull']);
    await until(() => s.events.listenerCount === 0);
    assert.equal(s.events.listenerCount, 0);
  });

  test('events: timeNano exact on the wire, since/until compared to the nanosecond', async () => {
    const e = s.events.publish('image', 'tag', 'sha256:exact', { name: 'exact:1' });
    const ns = eventNs(e);
    const seen: Array<[string, bigint]> = [];
    const at = unixText(ns), after = unixText(ns + 1n);
    await c.events({ since: at, until: at }, (m, t) => seen.push([m.Actor.ID, t]));
    // the client reads timeNano from the text: a double would have lost the last digits
    assert.deepEqual(seen, [['sha256:exact', ns]]);
    seen.length = 0;
    await c.events({ since: after, until: after }, (m, t) => seen.push([m.Actor.ID, t]));
    assert.deepEqual(seen, []);
    // a Go duration with two units, as the CLI's GetTimestamp takes it, is no 400 here either
    const recent: Array<[string, bigint]> = [];
    await c.events({ since: '1h30m', until: at }, (m, t) => recent.push([m.Actor.ID, t]));
    assert.ok(recent.some(([id, t]) => id === 'sha256:exact' && t === ns));
  });
});

// The client's API version (issue 10): moby's rules for DOCKER_API_VERSION and negotiation, and how the client
// reaches them without the docker CLI's extra round trip, against a fake daemon that answers as dockerd does.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { ApiError, Client } from '../../src/client/index.js';
import { fixedApiVersion, negotiatedVersion, parseApiVersion } from '../../src/client/api-version.js';
import { getTimestamp } from '../../src/cli/docker/timestamp.js';
import { imageRows } from '../../src/cli/docker/images.js';
import { compareVersions } from '../../src/api/version.js';
import { createBodyAt, networkCreateBodyAt } from '../../src/client/legacy.js';
import type { ContainerCreateRequest } from '../../src/api/types.js';

test('DOCKER_API_VERSION is read as moby reads it, with its error words', () => {
  // moby client/client_options_test.go TestOptionWithAPIVersionFromEnv
  const ok: Array<[string, string | undefined]> = [
    ['', undefined], ['   ', undefined], ['v', undefined], ['1.41', '1.41'], ['   1.50   ', '1.50'], ['v1.0', '1.0'],
    ['   v1.24   ', '1.24'], ['9.99', '9.99'], ['1.041', '1.41'],
  ];
  for (const [v, want] of ok) assert.equal(fixedApiVersion({ DOCKER_API_VERSION: v }), want, JSON.stringify(v));
  assert.equal(fixedApiVersion({}), undefined);
  const bad: Array<[string, string]> = [
    ['something-weird', 'invalid API version (something-weird): must be formatted <major>.<minor>'],
    ['1', 'invalid API version (1): must be formatted <major>.<minor>'],
    ['1.2.3', 'invalid API version (1.2.3): invalid minor version: must be formatted <major>.<minor>'],
    ['v 1.0', 'invalid API version (v 1.0): invalid major version: must be formatted <major>.<minor>'],
    ['vv1.0', 'invalid API version (vv1.0): must be formatted <major>.<minor>'],
    ['1.x', 'invalid API version (1.x): invalid minor version: must be formatted <major>.<minor>'],
    ['99999999999999999999.1', 'invalid API version (99999999999999999999.1): invalid major version: must be formatted <major>.<minor>'],
  ];
  for (const [v, msg] of bad) {
    assert.throws(() => fixedApiVersion({ DOCKER_API_VERSION: v }), (e: Error & { kind?: string }) => e.message === msg && e.kind === 'InvalidArgument', v);
  }
  assert.throws(() => parseApiVersion(' '), /invalid API version \(\): value is empty$/);
});

test('negotiation takes the lower version; a daemon that names none is 1.24', () => {
  assert.equal(negotiatedVersion('1.41', '1.50'), '1.41');
  assert.equal(negotiatedVersion('1.52', '1.50'), '1.50');
  assert.equal(negotiatedVersion('1.50', '1.50'), '1.50');
  assert.equal(negotiatedVersion('1.9', '1.50'), '1.9'); // numeric, not text order
  assert.equal(negotiatedVersion(undefined, '1.50'), '1.24');
  assert.equal(negotiatedVersion('', '1.50'), '1.24');
  assert.equal(negotiatedVersion('not-a-version', '1.50'), '1.24');
  assert.equal(negotiatedVersion('1.41', '1.30'), '1.30');
});

interface Seen { method: string; path: string }

/**
 * A raw daemon on a unix socket that answers as dockerd's version middleware does: every answer carries
 * Api-Version (unless `header` is false); a path above `max` gets 400 "client version … is too new" on the
 * head alone, and the connection is closed without the body being read. Other requests answer 200 with
 * the path; `status` overrides that.
 */
async function fakeDaemon(t: { after: (fn: () => void) => void }, o: { max: string; header?: boolean; status?: (p: string) => number }): Promise<{ socket: string; seen: Seen[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-negotiate-'));
  const socket = path.join(dir, 's.sock');
  const seen: Seen[] = [];
  const hdr = o.header === false ? '' : `Api-Version: ${o.max}\r\n`;
  const answer = (s: net.Socket, status: number, json: unknown, close = false) => {
    const b = JSON.stringify(json);
    s.write(`HTTP/1.1 ${status} X\r\n${hdr}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`);
    if (close) s.destroy(); else s.end();
  };
  const srv = net.createServer((s) => {
    s.on('error', () => { /* the client may go first */ });
    let head = '';
    let answered = false;
    let need = -1; // body bytes still to come before the answer
    s.on('data', (d: Buffer) => {
      if (answered) return;
      if (need < 0) {
        head += d.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [method, p] = head.split(' ') as [string, string];
        seen.push({ method, path: p });
        const m = /^\/v([\d.]+)\//.exec(p);
        if (m && compareVersions(m[1]!, o.max) > 0) {
          answered = true;
          answer(s, 400, { message: `client version ${m[1]} is too new. Maximum supported API version is ${o.max}` }, true);
          return;
        }
        if (p === '/_ping') {
          answered = true;
          s.end(`HTTP/1.1 200 OK\r\n${hdr}Content-Length: ${method === 'HEAD' ? 0 : 2}\r\n\r\n${method === 'HEAD' ? '' : 'OK'}`);
          return;
        }
        const len = /content-length: (\d+)/i.exec(head.slice(0, end));
        const chunked = /transfer-encoding: chunked/i.test(head.slice(0, end));
        need = chunked ? Infinity : Number(len?.[1] ?? 0);
        const rest = head.slice(end + 4);
        head = rest;
        d = Buffer.from(rest, 'latin1');
        if (chunked) need = rest.endsWith('0\r\n\r\n') ? 0 : Infinity;
        else need -= d.length;
      } else if (need === Infinity) { head += d.toString('latin1'); if (head.endsWith('0\r\n\r\n')) need = 0; } else need -= d.length;
      if (need <= 0) { answered = true; const p = seen.at(-1)!.path; answer(s, o.status?.(p) ?? 200, { path: p }); }
    });
  });
  await new Promise<void>((r) => srv.listen(socket, r));
  t.after(() => { srv.close(); fs.rmSync(dir, { recursive: true, force: true }); });
  return { socket, seen };
}

const paths = (seen: Seen[]) => seen.map((s) => `${s.method} ${s.path}`);

test('a daemon that serves our version: no ping, no second request', async (t) => {
  const d = await fakeDaemon(t, { max: '1.52' });
  const c = new Client(`unix://${d.socket}`);
  assert.deepEqual(await c.json('GET', '/containers/json'), { path: '/v1.50/containers/json' });
  assert.deepEqual(await c.json('POST', '/containers/create', { body: { Image: 'x' } }), { path: '/v1.50/containers/create' });
  assert.equal(c.version, '1.50');
  assert.deepEqual(paths(d.seen), ['GET /v1.50/containers/json', 'POST /v1.50/containers/create']);
});

test('an older daemon: the refused first request goes again at its version, and the rest go there at once', async (t) => {
  const d = await fakeDaemon(t, { max: '1.41' });
  const c = new Client(`unix://${d.socket}`);
  // a body sent with the head: the daemon answers and closes before reading it (dockerd does)
  assert.deepEqual(await c.json('POST', '/containers/create', { body: { Image: 'x', Cmd: ['true'] } }), { path: '/v1.41/containers/create' });
  assert.equal(c.version, '1.41');
  assert.deepEqual(await c.json('GET', '/containers/json'), { path: '/v1.41/containers/json' });
  assert.deepEqual(paths(d.seen), ['POST /v1.50/containers/create', 'POST /v1.41/containers/create', 'GET /v1.41/containers/json']);
});

test('requests in flight together before the version is known are all sent again', async (t) => {
  const d = await fakeDaemon(t, { max: '1.41' });
  const c = new Client(`unix://${d.socket}`);
  const got = await Promise.all(['a', 'b', 'c'].map((n) => c.json('DELETE', `/containers/${n}`)));
  assert.deepEqual(got, ['a', 'b', 'c'].map((n) => ({ path: `/v1.41/containers/${n}` })));
  assert.equal(d.seen.filter((s) => s.path.startsWith('/v1.41/')).length, 3);
});

test('a stream, or a body too large for one write, is sent only after the docker CLI ping', async (t) => {
  const d = await fakeDaemon(t, { max: '1.41' });
  const c = new Client(`unix://${d.socket}`);
  const r = await c.request('POST', '/images/load', { raw: Readable.from([Buffer.from('tar bytes')]) });
  r.res.resume();
  assert.deepEqual(paths(d.seen), ['HEAD /_ping', 'POST /v1.41/images/load']);
  const e = await fakeDaemon(t, { max: '1.41' });
  const big = new Client(`unix://${e.socket}`);
  await big.json('PUT', '/containers/x/archive', { raw: Buffer.alloc(1 << 20, 1) });
  assert.deepEqual(paths(e.seen), ['HEAD /_ping', 'PUT /v1.41/containers/x/archive']);
});

test('a fixed version is used as is: no ping, no retry, the daemon\'s refusal is the error', async (t) => {
  const d = await fakeDaemon(t, { max: '1.41' });
  const c = new Client(`unix://${d.socket}`, '1.44');
  await assert.rejects(c.json('GET', '/containers/json'), (e: unknown) => e instanceof ApiError && e.status === 400 && e.message === 'client version 1.44 is too new. Maximum supported API version is 1.41');
  assert.equal(c.version, '1.44');
  const low = new Client(`unix://${d.socket}`, '1.24');
  await low.negotiate();
  assert.deepEqual(await low.json('GET', '/info'), { path: '/v1.24/info' });
  assert.deepEqual(paths(d.seen), ['GET /v1.44/containers/json', 'GET /v1.24/info']);
});

test('a refusal without an Api-Version header: the ping decides, 1.24 when it names none either', async (t) => {
  const d = await fakeDaemon(t, { max: '1.41', header: false, status: (p) => (p.startsWith('/v1.50/') ? 404 : 200) });
  const c = new Client(`unix://${d.socket}`);
  assert.deepEqual(await c.json('GET', '/containers/json'), { path: '/v1.24/containers/json' });
  assert.deepEqual(paths(d.seen), ['GET /v1.50/containers/json', 'HEAD /_ping', 'GET /v1.24/containers/json']);
  // a success without a header keeps our version
  const e = await fakeDaemon(t, { max: '1.50', header: false });
  const ok = new Client(`unix://${e.socket}`);
  assert.deepEqual(await ok.json('GET', '/info'), { path: '/v1.50/info' });
  assert.deepEqual(await ok.json('GET', '/info'), { path: '/v1.50/info' });
  assert.equal(e.seen.length, 2);
});

test('an error of the daemon at a version it serves is not sent again', async (t) => {
  const d = await fakeDaemon(t, { max: '1.41', status: (p) => (p.includes('nope') ? 404 : 200) });
  const c = new Client(`unix://${d.socket}`);
  await c.json('GET', '/_ping', { unversioned: true }).catch(() => undefined);
  await assert.rejects(c.json('GET', '/containers/nope/json'), (e: unknown) => e instanceof ApiError && e.status === 404);
  assert.deepEqual(paths(d.seen), ['GET /_ping', 'GET /v1.41/containers/nope/json']);
});

test('--since/--until as the docker CLI sends them', () => {
  const now = Date.UTC(2026, 0, 2, 3, 4, 5, 600);
  assert.equal(getTimestamp('10m', now), String(Math.floor(now / 1000) - 600));
  assert.equal(getTimestamp('1h30m', now), String(Math.floor(now / 1000) - 5400));
  assert.equal(getTimestamp('0s', now), String(Math.floor(now / 1000)));
  assert.equal(getTimestamp('0', now), '0');
  assert.equal(getTimestamp('1700000000', now), '1700000000');
  assert.equal(getTimestamp('1700000000.5', now), '1700000000.5');
  assert.equal(getTimestamp('2026-01-02T03:04:05Z', now), '1767323045.000000000');
  assert.equal(getTimestamp('2026-01-02T03:04:05.25+01:00', now), '1767319445.250000000');
  assert.equal(getTimestamp('2026-01-02', now), `${new Date(2026, 0, 2).getTime() / 1000}.000000000`);
  assert.equal(getTimestamp('2026-01-02T03:04', now), `${new Date(2026, 0, 2, 3, 4).getTime() / 1000}.000000000`);
  for (const bad of ['yesterday', '2026-13-01', '1m-']) assert.throws(() => getTimestamp(bad, now), /failed to parse value as time or duration/);
});

test('images from a daemon before API 1.44: null lists and <none> placeholders', () => {
  const base = { Id: 'sha256:' + 'a'.repeat(64), ParentId: '', Created: 1, Size: 10, SharedSize: -1, Containers: -1, Labels: null, VirtualSize: 10 };
  const rows = imageRows([
    { ...base, RepoTags: ['bb:1'], RepoDigests: null },
    { ...base, RepoTags: ['<none>:<none>'], RepoDigests: ['<none>@<none>'] },
    { ...base, RepoTags: null, RepoDigests: ['reg/bb@sha256:' + 'b'.repeat(64)] },
  ] as unknown as Parameters<typeof imageRows>[0]);
  assert.deepEqual(rows.map((r) => [r.Repository, r.Tag, r.Digest]), [['bb', '1', '<none>'], ['<none>', '<none>', '<none>'], ['reg/bb', '<none>', 'sha256:' + 'b'.repeat(64)]]);
});

test('request bodies for older daemons, as moby\'s client and the docker CLI change them', () => {
  const body = { Image: 'x', HostConfig: { NetworkMode: 'n1', AutoRemove: true }, NetworkingConfig: { EndpointsConfig: { n1: { MacAddress: '02:42:ac:11:00:99' } } } } as unknown as ContainerCreateRequest;
  assert.equal(createBodyAt(body, '1.50'), body);
  const old = createBodyAt(body, '1.41') as ContainerCreateRequest & { MacAddress?: string };
  assert.equal(old.MacAddress, '02:42:ac:11:00:99');
  assert.equal(old.HostConfig!.AutoRemove, true);
  assert.equal(createBodyAt(body, '1.24').HostConfig!.AutoRemove, false);
  assert.equal(body.HostConfig!.AutoRemove, true); // the caller's body is left as it was
  const dflt = { Image: 'x', HostConfig: { NetworkMode: 'default' }, NetworkingConfig: { EndpointsConfig: { default: { MacAddress: 'm' } } } } as unknown as ContainerCreateRequest;
  assert.equal((createBodyAt(dflt, '1.43') as { MacAddress?: string }).MacAddress, 'm');
  assert.deepEqual(networkCreateBodyAt({ Name: 'n' }, '1.41'), { Name: 'n', CheckDuplicate: true });
  assert.deepEqual(networkCreateBodyAt({ Name: 'n' }, '1.44'), { Name: 'n' });
});

test('a body built for the version: the retry at the daemon\'s version carries that version\'s body', async (t) => {
  const d = await fakeDaemon(t, { max: '1.41' });
  const c = new Client(`unix://${d.socket}`);
  const asked: string[] = [];
  await c.json('POST', '/networks/create', { bodyAt: (v) => { asked.push(v); return networkCreateBodyAt({ Name: 'n' }, v); } });
  assert.deepEqual(asked, ['1.50', '1.41']); // one per attempt
});

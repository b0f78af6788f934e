import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { send } from '../../src/client/http1.js';

/** A unix-socket server that records the raw request and answers with `reply` (written piece by piece). */
async function server(t: { after: (fn: () => void) => void }, reply: (req: string, sock: net.Socket) => void): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-http1-'));
  const file = path.join(dir, 's.sock');
  const srv = net.createServer((sock) => {
    sock.on('error', () => { /* the client may close first */ });
    let req = '';
    sock.on('data', (d) => {
      req += d.toString('latin1');
      const end = req.indexOf('\r\n\r\n');
      if (end < 0) return;
      const chunked = /transfer-encoding: chunked/i.test(req.slice(0, end));
      if (chunked && !req.endsWith('0\r\n\r\n')) return;
      reply(req, sock);
    });
  });
  await new Promise<void>((r) => srv.listen(file, r));
  t.after(() => { srv.close(); fs.rmSync(dir, { recursive: true, force: true }); });
  return file;
}

const body = (r: Awaited<ReturnType<typeof send>>) => {
  assert.equal(r.upgraded, false);
  return new Promise<string>((resolve, reject) => {
    let s = '';
    r.body.on('data', (c: Buffer) => { s += c.toString(); }).on('end', () => resolve(s)).on('error', reject);
  });
};

test('a chunked answer split at every awkward place, and a Content-Length answer', async (t) => {
  const sock = await server(t, (req, s) => {
    const pieces = req.startsWith('GET /chunked')
      ? ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nApi-Version: 1.50\r\n\r', '\n5\r', '\nhel', 'lo\r\n', '6;ext=1\r\n wor', 'ld\r\n0\r\n', 'X-Trailer: 1\r\n\r\n']
      : ['HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n{"message":"no such"}', 'junk after the body'];
    (async () => { for (const p of pieces) { s.write(p); await new Promise((r) => setTimeout(r, 5)); } s.end(); })();
  });
  const a = await send(sock, { method: 'GET', path: '/chunked', headers: {} });
  assert.equal(a.status, 200);
  assert.equal(a.headers['api-version'], '1.50');
  assert.equal(await body(a), 'hello world');
  const b = await send(sock, { method: 'GET', path: '/missing', headers: {} });
  assert.equal(b.status, 404);
  assert.equal(await body(b), '{"message":"no such"}');
});

test('a streamed request body goes chunked; a body without length runs to the close; HEAD has none', async (t) => {
  let seen = '';
  const sock = await server(t, (req, s) => {
    seen = req;
    if (req.startsWith('HEAD')) { s.end('HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n'); return; }
    s.end('HTTP/1.1 200 OK\r\n\r\nall of it');
  });
  async function* src() { yield Buffer.from('ab'); yield Buffer.from(''); yield Buffer.from('cde'); }
  const a = await send(sock, { method: 'POST', path: '/load', headers: { 'Content-Type': 'application/x-tar' }, body: src() });
  assert.equal(await body(a), 'all of it');
  assert.match(seen, /^POST \/load HTTP\/1\.1\r\n/);
  assert.match(seen, /\r\nTransfer-Encoding: chunked\r\n/);
  assert.ok(seen.endsWith('\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n'), JSON.stringify(seen));
  const h = await send(sock, { method: 'HEAD', path: '/x', headers: {} });
  assert.equal(await body(h), '');
});

test('a 101 hands over the socket with the bytes that came with it; a cut body is an error', async (t) => {
  const sock = await server(t, (req, s) => {
    if (req.startsWith('POST /attach')) {
      s.write('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n\x01\x00\x00\x00\x00\x00\x00\x02hi');
      setTimeout(() => s.end('more'), 20);
      return;
    }
    s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort');
  });
  const a = await send(sock, { method: 'POST', path: '/attach', headers: { Connection: 'Upgrade', Upgrade: 'tcp' } });
  assert.ok(a.upgraded);
  assert.deepEqual([...a.head], [1, 0, 0, 0, 0, 0, 0, 2, 104, 105]);
  let rest = '';
  for await (const c of a.socket) rest += (c as Buffer).toString();
  assert.equal(rest, 'more');
  const b = await send(sock, { method: 'GET', path: '/cut', headers: {} });
  await assert.rejects(body(b), /aborted/);
});

test('no daemon: the connect error comes back with its code', async () => {
  await assert.rejects(send(path.join(os.tmpdir(), 'berth-no-such.sock'), { method: 'GET', path: '/_ping', headers: {} }), { code: 'ENOENT' });
});

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

/** A rawAnswer's body through its source: each piece copied before `settled` (the buffer is read into again after it). */
function rawBodyOf(a: Awaited<ReturnType<typeof send>>, o: { slow?: boolean; stopAt?: number } = {}): Promise<{ text: string; settles: number }> {
  assert.equal(a.upgraded, false);
  assert.ok(a.source, 'a 2xx rawAnswer has a source');
  let text = '';
  let held: Buffer[] = [];
  let settles = 0;
  return a.source.read((b) => {
    held.push(b);
    if (o.slow) return new Promise<void>((r) => setTimeout(r, 2));
  }, () => o.stopAt !== undefined && text.length + held.reduce((n, b) => n + b.length, 0) >= o.stopAt, () => {
    // what was fed is still intact when `settled` runs
    for (const b of held) text += b.toString('latin1');
    held = [];
    settles++;
  }).then(() => ({ text, settles }));
}

test('rawAnswer: a chunked, a sized and a to-the-close body through the source; an error answer keeps its Readable', async (t) => {
  const big = Buffer.alloc(700 << 10);
  for (let i = 0; i < big.length; i++) big[i] = 97 + (i % 26);
  const sock = await server(t, (req, s) => {
    if (req.startsWith('GET /chunked')) {
      const pieces = ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r', '\n5\r', '\nhel', 'lo\r\n', '6;ext=1\r\n wor', 'ld\r\n', `${big.length.toString(16)}\r\n`];
      (async () => {
        for (const p of pieces) { s.write(p); await new Promise((r) => setTimeout(r, 5)); }
        s.write(big); s.write('\r\n0\r\nX-Trailer: 1\r\n\r\n'); s.end();
      })();
    } else if (req.startsWith('GET /sized')) s.end('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nall of itjunk after');
    else if (req.startsWith('GET /close')) s.end('HTTP/1.1 200 OK\r\n\r\nto the end');
    else s.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n{"message":"no such"}');
  });
  const a = await send(sock, { method: 'GET', path: '/chunked', headers: {}, rawAnswer: true });
  const closed = new Promise((r) => { if (!a.upgraded) a.body.once('close', r); });
  const got = await rawBodyOf(a, { slow: true });
  assert.equal(got.text, `hello world${big.toString('latin1')}`);
  assert.ok(got.settles > 2, `${got.settles} reads`);
  await closed; // the connection's handle closes with the body
  assert.equal((await rawBodyOf(await send(sock, { method: 'GET', path: '/sized', headers: {}, rawAnswer: true }))).text, 'all of it');
  assert.equal((await rawBodyOf(await send(sock, { method: 'GET', path: '/close', headers: {}, rawAnswer: true }))).text, 'to the end');
  const e = await send(sock, { method: 'GET', path: '/missing', headers: {}, rawAnswer: true });
  assert.equal(e.status, 404);
  assert.equal(e.upgraded ? undefined : e.source, undefined);
  assert.equal(await body(e), '{"message":"no such"}');
});

test('rawAnswer: a body cut short, bad framing and a feed that throws reject; done() ends the read early', async (t) => {
  const sock = await server(t, (req, s) => {
    if (req.startsWith('GET /cut')) s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort');
    else if (req.startsWith('GET /bad')) s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    else { s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${1 << 30}\r\n\r\n`); s.write(Buffer.alloc(64 << 10, 120)); /* and no more */ }
  });
  await assert.rejects(rawBodyOf(await send(sock, { method: 'GET', path: '/cut', headers: {}, rawAnswer: true })), /aborted/);
  await assert.rejects(rawBodyOf(await send(sock, { method: 'GET', path: '/bad', headers: {}, rawAnswer: true })), /invalid chunked answer body: no chunk size/);
  const f = await send(sock, { method: 'GET', path: '/long', headers: {}, rawAnswer: true });
  assert.ok(!f.upgraded && f.source);
  await assert.rejects(f.source.read(() => { throw new Error('disk full'); }, () => false, () => {}), /disk full/);
  // the tar's end before the body's: the read resolves, the rest is not waited for
  const g = await rawBodyOf(await send(sock, { method: 'GET', path: '/long', headers: {}, rawAnswer: true }), { stopAt: 1000 });
  assert.ok(g.text.length >= 1000 && /^x+$/.test(g.text));
});

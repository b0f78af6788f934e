// registry/http-get: the node:http GET a pull reads layer blobs through (instead of fetch) keeps fetch's
// rules that matter to a registry: redirects followed, the token not handed to another origin, a body that
// breaks off is an error (ECONNRESET, which pull retries), not a short blob.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { test } from 'node:test';
import { httpGet } from '../../src/registry/http-get.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function serve(t: { after: (fn: () => void) => void }, h: Handler): Promise<string> {
  const srv = http.createServer(h);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => { srv.closeAllConnections(); srv.close(); });
  return `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
}

async function read(res: AsyncIterable<Uint8Array>): Promise<string> {
  let s = '';
  for await (const c of res) s += Buffer.from(c).toString();
  return s;
}

test('follows redirects: the token goes along on the same origin and not to another one', async (t) => {
  const seen: Array<[string, string | undefined]> = [];
  const cdn = await serve(t, (req, res) => { seen.push([`cdn${req.url}`, req.headers.authorization]); res.end('blob bytes'); });
  const reg = await serve(t, (req, res) => {
    seen.push([`reg${req.url}`, req.headers.authorization]);
    if (req.url === '/v2/r/blobs/x') { res.writeHead(307, { location: '/v2/r/blobs/x/here' }); res.end(); return; }
    res.writeHead(302, { location: `${cdn}/data?sig=1` });
    res.end();
  });
  const res = await httpGet(`${reg}/v2/r/blobs/x`, { authorization: 'Bearer tok' });
  assert.equal(res.statusCode, 200);
  assert.equal(await read(res), 'blob bytes');
  assert.deepEqual(seen, [['reg/v2/r/blobs/x', 'Bearer tok'], ['reg/v2/r/blobs/x/here', 'Bearer tok'], ['cdn/data?sig=1', undefined]]);
});

test('an error status comes back as it is, for the caller to decide', async (t) => {
  const reg = await serve(t, (_req, res) => { res.writeHead(401, { 'www-authenticate': 'Bearer realm="x"' }); res.end('{}'); });
  const res = await httpGet(`${reg}/v2/r/blobs/x`, {});
  assert.equal(res.statusCode, 401);
  res.resume();
});

test('a body that breaks off before its Content-Length is an ECONNRESET error, not a short blob', async (t) => {
  const reg = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-length': '100000' });
    res.write(Buffer.alloc(30000));
    setTimeout(() => res.socket?.destroy(), 20);
  });
  const res = await httpGet(`${reg}/v2/r/blobs/x`, {});
  await assert.rejects(read(res), (e: Error & { code?: string }) => e.code === 'ECONNRESET');
});

test('a redirect loop ends in an error', async (t) => {
  const reg = await serve(t, (_req, res) => { res.writeHead(302, { location: '/again' }); res.end(); });
  await assert.rejects(httpGet(`${reg}/v2/r/blobs/x`, {}), /too many redirects/);
});

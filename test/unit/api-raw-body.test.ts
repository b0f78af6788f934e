// api/raw-body: the request-body decoder (Content-Length and chunked, RFC 9112) that PUT archive's body
// goes through when it is read off the socket; and which requests take that path.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ApiIncomingMessage, BodyDecoder, rawBodyOf, serveRawBody, takesRawBody } from '../../src/api/raw-body.js';

/** Decodes `wire` fed in pieces of `step` bytes (0: whole); returns the body, the leftover and done. */
function decode(length: number | 'chunked', wire: Buffer, step = 0): { body: Buffer; rest: Buffer | undefined; done: boolean } {
  const parts: Buffer[] = [];
  const d = new BodyDecoder(length, (b) => parts.push(Buffer.from(b)));
  let rest: Buffer | undefined;
  const n = step || wire.length;
  for (let i = 0; i < wire.length && rest === undefined; i += n) {
    const r = d.push(wire.subarray(i, i + n));
    if (r !== undefined) rest = Buffer.concat([r, wire.subarray(i + n)]);
  }
  return { body: Buffer.concat(parts), rest, done: d.done };
}

const chunked = (...pieces: string[]) => Buffer.from(pieces.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join('') + '0\r\n\r\n');

describe('api/raw-body BodyDecoder', () => {
  test('chunked bodies decode the same whatever the reads are cut into; what follows the body is left over', () => {
    const wire = Buffer.concat([chunked('hello ', 'x'.repeat(300), 'world').subarray(0, -5), Buffer.from('0;ext=1\r\nTrailer: v\r\n\r\nNEXT')]);
    for (const step of [0, 1, 2, 3, 7, 64]) {
      const r = decode('chunked', wire, step);
      assert.equal(r.body.toString(), `hello ${'x'.repeat(300)}world`, `step ${step}`);
      assert.equal(r.done, true);
      assert.equal(r.rest?.toString(), 'NEXT', `step ${step}`);
    }
  });

  test('an empty chunk does not end the body early; upper- and lower-case hex sizes and extensions are read', () => {
    // a zero-size chunk is the last one: a body cannot contain one
    const r = decode('chunked', Buffer.from('A;name="v"\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n'));
    assert.equal(r.body.toString(), '0123456789abcdefghij');
    assert.equal(r.done, true);
  });

  test('Content-Length bodies: exactly that many bytes; zero is done at once', () => {
    for (const step of [0, 1, 5]) {
      const r = decode(11, Buffer.from('hello worldEXTRA'), step);
      assert.equal(r.body.toString(), 'hello world');
      assert.equal(r.rest?.toString(), 'EXTRA');
    }
    const z = new BodyDecoder(0, () => assert.fail('no body'));
    assert.equal(z.done, true);
    const part = decode(100, Buffer.from('short'));
    assert.equal(part.done, false);
    assert.equal(part.rest, undefined);
  });

  test('bad framing is a 400 naming what is wrong, never a hang or a wrong body', () => {
    const cases: Array<[string, RegExp]> = [
      ['\r\n', /no chunk size/],
      ['zz\r\n', /no chunk size/],
      ['5x\r\n', /bad character/],
      ['5\n', /bad character/],
      ['5\rX', /CR without LF/],
      ['5\r\nhelloX', /longer than its size/],
      ['5\r\nhello\rX', /CR without LF/],
      ['5;ext\nhello', /bare LF/],
      ['ffffffffffffff\r\n', /too large/],
      [`5;${'e'.repeat(5000)}\r\n`, /line too long/],
      [`0\r\n${'T: v\r\n'.repeat(4000)}\r\n`, /trailers too long/],
      ['0\r\nT: v\nX', /bare LF/],
    ];
    for (const [wire, re] of cases) {
      assert.throws(() => decode('chunked', Buffer.from(wire)), (e: Error & { code?: string }) => {
        assert.match(e.message, re, JSON.stringify(wire));
        assert.match(e.message, /^invalid chunked request body/);
        return true;
      }, JSON.stringify(wire));
    }
  });

  test('the body is handed on as views of the reads, not copies', () => {
    const wire = Buffer.from('5\r\nhello\r\n0\r\n\r\n');
    const seen: Buffer[] = [];
    new BodyDecoder('chunked', (b) => seen.push(b)).push(wire);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.buffer, wire.buffer);
  });
});

describe('api/raw-body takesRawBody', () => {
  test('PUT /containers/{id}/archive (with or without a version, with a query) and nothing else', () => {
    assert.equal(takesRawBody('PUT', '/containers/abc/archive?path=/tmp'), true);
    assert.equal(takesRawBody('PUT', '/v1.41/containers/abc/archive?path=/tmp'), true);
    assert.equal(takesRawBody('PUT', '/containers/abc/archive'), true);
    assert.equal(takesRawBody('GET', '/containers/abc/archive?path=/tmp'), false);
    assert.equal(takesRawBody('HEAD', '/containers/abc/archive?path=/tmp'), false);
    assert.equal(takesRawBody('PUT', '/containers/abc/archivex'), false);
    assert.equal(takesRawBody('PUT', '/containers/a/b/archive'), false);
    assert.equal(takesRawBody('POST', '/containers/abc/attach'), false);
    assert.equal(takesRawBody(undefined, undefined), false);
  });
});

describe('api/raw-body serveRawBody', () => {
  // util/untar closes its directories once read() settles: a piece still being applied (a directory's lookup
  // under way) would open a FileHandle after that, left to the garbage collector ("Closing file descriptor N
  // on garbage collection"), and its later entries fds nothing closes
  for (const how of ['the client closes', 'the connection is ended on our side']) {
    test(`${how} while a piece is being applied: read() settles only once that piece is done`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raw-body-'));
      const sock = path.join(dir, 's');
      const events: string[] = [];
      let release!: () => void;
      const applied = new Promise<void>((r) => { release = r; });
      let serverSide: net.Socket | undefined;
      let readDone!: () => void;
      const settled = new Promise<void>((r) => { readDone = r; });
      const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
        serverSide = res.socket as net.Socket;
        rawBodyOf(req)!.read(() => { events.push('feed'); return applied.then(() => { events.push('applied'); }); }, () => false, () => undefined)
          .then(() => events.push('resolved'), () => events.push('rejected'))
          .finally(() => { res.destroy(); readDone(); });
      };
      const server = http.createServer({ IncomingMessage: ApiIncomingMessage }, handler);
      server.on('upgrade', (req: http.IncomingMessage, s: net.Socket, head: Buffer) => serveRawBody(req, s, head, handler, (res) => res.destroy()));
      await new Promise<void>((r) => server.listen(sock, r));
      const client = net.connect(sock);
      client.on('error', () => undefined);
      try {
        client.write(`PUT /containers/x/archive?path=/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n${'a'.repeat(1000)}`);
        for (let i = 0; !events.includes('feed'); i++) { assert.ok(i < 200, 'the body never reached feed'); await new Promise((r) => setTimeout(r, 10)); }
        if (how === 'the client closes') client.destroy(); else serverSide!.destroy();
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(events, ['feed'], 'read() settled while its piece was still being applied');
        release();
        await settled;
        assert.deepEqual(events, ['feed', 'applied', 'rejected']);
      } finally {
        release();
        client.destroy();
        server.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

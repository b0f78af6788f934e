// bench/discard-server: answers what `docker cp DIR ctr:/path/` asks (/_ping, the HEAD stat of a
// directory, the PUT) and discards the PUT's body: the CLI's own time for a copy in, the floor any
// daemon's figure stands on. The body is read off the socket into one 4 MiB buffer (net's `onread`) and
// only its framing is looked at: node's HTTP server (a fresh 64 KiB buffer per read, each body chunk
// copied) made the docker CLI ~10–30% slower than a sink in C-speed Python does (stop 23, issue 10), so
// it measured the server, not the CLI. node bench/discard-server.mjs SOCKET
import * as fs from 'node:fs';
import * as net from 'node:net';

const sock = process.argv[2];
try { fs.unlinkSync(sock); } catch { /* none */ }
const H = 'Api-Version: 1.41\r\nOstype: linux\r\nServer: Docker/20.10.24 (linux)\r\nContent-Type: application/json\r\n';
// a directory (Go's os.ModeDir | 0755)
const stat = Buffer.from(JSON.stringify({ name: 'in', size: 4096, mode: 2147484141, mtime: '2026-01-01T00:00:00Z', linkTarget: '' })).toString('base64');

/** The answer to a request head (method and path; the body is not looked at). */
function answer(method, url) {
  if (url.endsWith('/_ping')) return `HTTP/1.1 200 OK\r\n${H}Content-Length: 2\r\n\r\n${method === 'HEAD' ? '' : 'OK'}`;
  if (method === 'HEAD' && url.includes('/archive')) return `HTTP/1.1 200 OK\r\n${H}X-Docker-Container-Path-Stat: ${stat}\r\nContent-Length: 0\r\n\r\n`;
  if (method === 'PUT') return `HTTP/1.1 200 OK\r\n${H}Content-Length: 0\r\n\r\n`;
  const b = '{"message":"not served by the discard server"}';
  return `HTTP/1.1 404 Not Found\r\n${H}Content-Length: ${b.length}\r\n\r\n${b}`;
}

net.createServer({ pauseOnConnect: true }, (old) => {
  // the accepted socket's handle moves to a socket reading into one buffer
  old.on('error', () => {});
  const handle = old._handle;
  old._handle = null;
  let head = '';
  /** body framing: bytes of data left, or in chunked mode the state of its size lines */
  let left = 0;
  let chunked = false;
  let line = '';
  let state = 'head'; // head | data | size | crlf | trailer
  let pending = '';
  const s = new net.Socket({
    handle,
    onread: {
      buffer: Buffer.allocUnsafe(4 << 20),
      callback: (n, buf) => {
        let i = 0;
        while (i < n) {
          if (state === 'head') {
            const k = Math.min(n, i + 8192);
            head += buf.toString('latin1', i, k);
            const end = head.indexOf('\r\n\r\n');
            if (end < 0) { i = k; continue; }
            i = k - (head.length - end - 4);
            const lines = head.slice(0, end).split('\r\n');
            head = '';
            const [method, url] = lines[0].split(' ');
            const hdr = Object.fromEntries(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
            pending = answer(method, url);
            chunked = /chunked/i.test(hdr['transfer-encoding'] ?? '');
            left = Number(hdr['content-length'] ?? 0);
            state = chunked ? 'size' : 'data';
            if (!chunked && left === 0) { s.write(pending); state = 'head'; }
          } else if (state === 'data') {
            const k = Math.min(left, n - i);
            i += k; left -= k;
            if (left === 0) {
              if (chunked) state = 'crlf';
              else { s.write(pending); state = 'head'; }
            }
          } else if (state === 'crlf') {
            if (buf[i++] === 0x0a) state = 'size';
          } else { // 'size' or 'trailer': a line up to LF
            const c = buf[i++];
            if (c !== 0x0a) { line += String.fromCharCode(c); continue; }
            const text = line.replace(/\r$/, '');
            line = '';
            if (state === 'trailer') { if (text === '') { s.write(pending); state = 'head'; } continue; }
            left = parseInt(text, 16);
            state = left > 0 ? 'data' : 'trailer';
          }
        }
      },
    },
  });
  s.on('error', () => {});
  s.resume();
}).listen(sock);

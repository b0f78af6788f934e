// bench/discard-server: answers what `docker cp DIR ctr:/path/` asks (/_ping, the HEAD stat of a
// directory, the PUT) and discards the PUT's body through node's HTTP server: the docker CLI's own time
// for a copy in, the floor any daemon's figure stands on. node bench/discard-server.mjs SOCKET
import * as fs from 'node:fs';
import * as http from 'node:http';
const sock = process.argv[2];
try { fs.unlinkSync(sock); } catch { /* none */ }
const headers = { 'Api-Version': '1.41', 'Ostype': 'linux', 'Server': 'Docker/20.10.24 (linux)', 'Content-Type': 'application/json' };
// a directory (Go's os.ModeDir | 0755)
const stat = Buffer.from(JSON.stringify({ name: 'in', size: 4096, mode: 2147484141, mtime: '2026-01-01T00:00:00Z', linkTarget: '' })).toString('base64');
http.createServer((req, res) => {
  if (req.method === 'PUT') { req.on('data', () => {}); req.on('end', () => { res.writeHead(200, headers); res.end(); }); return; }
  req.resume();
  if (req.url.endsWith('/_ping')) { res.writeHead(200, headers); res.end('OK'); return; }
  if (req.method === 'HEAD' && req.url.includes('/archive')) { res.writeHead(200, { ...headers, 'X-Docker-Container-Path-Stat': stat }); res.end(); return; }
  res.writeHead(404, headers); res.end('{"message":"not served by the discard server"}');
}).listen(sock);

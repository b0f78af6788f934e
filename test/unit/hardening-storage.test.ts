// Storage hardening without root (issue 7): malformed whiteouts, caps on documents read from the
// network or an archive while streaming, the image store lock, orphaned ingest files.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { sha256 } from '../../src/content/digest.js';
import { ContentStore } from '../../src/content/store.js';
import { ImageService } from '../../src/images/index.js';
import { ImageStore } from '../../src/images/store.js';
import { RegistryClient } from '../../src/registry/client.js';
import { parseReference } from '../../src/registry/reference.js';
import { pidStartTime } from '../../src/runtime/state.js';
import { encodeHeader, header, type TarHeader } from '../../src/snapshots/tar-header.js';
import { Snapshotter } from '../../src/snapshots/overlay.js';
import { tarOf } from '../helpers/tar.js';
import { OWNER } from '../../src/util/owner.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-harden-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function* one(b: Buffer) { yield b; }

// ---- item 7: whiteouts ----

const badWhiteouts: Record<string, Array<[Partial<TarHeader> & { name: string }, Buffer?]>> = {
  '.wh. with no name': [[{ name: 'a/.wh.' }]],
  '.wh.. (the directory itself)': [[{ name: 'a/.wh..' }]],
  '.wh... (the parent)': [[{ name: 'a/.wh...' }]],
  '.wh.. at the layer root': [[{ name: '.wh..' }]],
  'a whiteout with a body': [[{ name: 'bin/.wh.busybox' }, Buffer.from('not empty')]],
  'an opaque marker with a body': [[{ name: 'a/.wh..wh..opq' }, Buffer.from('x')]],
  'a whiteout that is a directory': [[{ name: 'a/.wh.keep/', type: 'dir' }]],
  'a whiteout that is a symlink': [[{ name: 'a/.wh.keep', type: 'symlink', linkname: '/etc' }]],
};

for (const [what, entries] of Object.entries(badWhiteouts)) {
  test(`refuses a malformed whiteout: ${what}`, async (t) => {
    const dir = tmp(t);
    const snaps = new Snapshotter(path.join(dir, 'root'));
    const tar = await tarOf([[{ name: 'a/', type: 'dir' }], [{ name: 'a/keep' }, Buffer.from('keep')], [{ name: 'bin/', type: 'dir' }], ...entries, [{ name: 'after' }, Buffer.from('x')]]);
    const name = entries[0]![0].name.replace(/\/$/, '');
    await assert.rejects(snaps.unpack(sha256(tar), undefined, one(tar), sha256(tar)), (e: Error) => {
      assert.match(e.message, /malformed whiteout/);
      assert.ok(e.message.includes(JSON.stringify(name).slice(1, -1)), `the error names the entry: ${e.message}`);
      return true;
    });
    assert.deepEqual(snaps.list(), [], 'nothing published');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'root', 'snapshots', '.tmp', OWNER)), [], 'nothing half-unpacked left');
  });
}

// ---- item 3: caps while streaming ----

/** A loopback server; `sent` counts the body bytes it managed to hand to the socket. */
async function server(t: { after: (fn: () => Promise<void>) => void }, handler: (req: http.IncomingMessage, res: http.ServerResponse, sent: { n: number }) => void) {
  const sent = { n: 0 };
  const s = http.createServer((req, res) => handler(req, res, sent));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); }));
  return { host: `127.0.0.1:${(s.address() as { port: number }).port}`, sent };
}

/** Streams `total` bytes of filler in 1 MiB writes, honouring backpressure, until done or the peer goes. */
function stream(res: http.ServerResponse, total: number, sent: { n: number }, fill = 0x20): void {
  const chunk = Buffer.alloc(1 << 20, fill);
  let gone = false;
  res.on('close', () => { gone = true; });
  const pump = () => {
    while (!gone && sent.n < total) {
      sent.n += chunk.length;
      if (!res.write(chunk)) { res.once('drain', pump); return; }
    }
    if (!gone) res.end();
  };
  pump();
}

const HUGE = 300 << 20;

test('a manifest larger than 4 MiB is refused while streaming, not buffered first', async (t) => {
  const { host, sent } = await server(t, (req, res, sent) => {
    req.resume();
    if (req.url === '/v2/') { res.end('{}'); return; }
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }); // chunked: no Content-Length
    stream(res, HUGE, sent);
  });
  const rss0 = process.memoryUsage().rss;
  const client = new RegistryClient(host, { retries: 0 });
  await assert.rejects(client.getManifest(parseReference(`${host}/big/app:1`)), /manifest 1: larger than the 4 MiB allowed/);
  const grew = process.memoryUsage().rss - rss0;
  assert.ok(grew < 100 << 20, `RSS grew by ${grew >> 20} MiB`);
  assert.ok(sent.n < 64 << 20, `the server got to send ${sent.n >> 20} MiB before the client stopped reading`);
});

test('a manifest whose Content-Length is over the cap is refused before its body', async (t) => {
  const { host, sent } = await server(t, (req, res, sent) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': String(HUGE) });
    stream(res, HUGE, sent);
  });
  await assert.rejects(new RegistryClient(host, { retries: 0 }).getManifest(parseReference(`${host}/big/app:1`)), /larger than the 4 MiB allowed/);
  assert.ok(sent.n < 64 << 20, `sent ${sent.n >> 20} MiB`);
});

test('a chunked image config with no Content-Length is capped while streaming; the pull leaves nothing', async (t) => {
  const dir = tmp(t);
  const cfgDigest = sha256('never sent whole');
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfgDigest, size: 100 }, layers: [] });
  const { host, sent } = await server(t, (req, res, sent) => {
    req.resume();
    if (req.url?.includes('/manifests/')) { res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }); res.end(manifest); return; }
    if (req.url?.includes('/blobs/')) { res.writeHead(200, { 'content-type': 'application/octet-stream' }); stream(res, HUGE, sent); return; }
    res.end('{}');
  });
  const svc = new ImageService({ root: path.join(dir, 'root') });
  const rss0 = process.memoryUsage().rss;
  await assert.rejects(svc.pull(`${host}/big/app:1`), /image config sha256:[0-9a-f]+: larger than the 8 MiB allowed/);
  const grew = process.memoryUsage().rss - rss0;
  assert.ok(grew < 100 << 20, `RSS grew by ${grew >> 20} MiB`);
  assert.ok(sent.n < 64 << 20, `sent ${sent.n >> 20} MiB`);
  assert.deepEqual(svc.content.list(), []);
  assert.deepEqual(svc.store.list(), []);
});

/** A tar stream with one file of `size` bytes, generated lazily. */
async function* hugeEntryTar(name: string, size: number): AsyncGenerator<Buffer> {
  yield encodeHeader(header({ name, size }));
  const chunk = Buffer.alloc(1 << 20, 0x20);
  for (let n = 0; n < size; n += chunk.length) yield chunk.subarray(0, Math.min(chunk.length, size - n));
  yield Buffer.alloc((512 - (size % 512)) % 512 + 1024);
}

test('load refuses a huge manifest.json from its header, before writing or reading it', async (t) => {
  const dir = tmp(t);
  const svc = new ImageService({ root: path.join(dir, 'root') });
  let consumed = 0;
  async function* counted() { for await (const c of hugeEntryTar('manifest.json', HUGE)) { consumed += c.length; yield c; } }
  await assert.rejects(svc.load(counted()), /archive manifest.json: larger than the 4 MiB allowed/);
  assert.ok(consumed < 64 << 20, `load read ${consumed >> 20} MiB of the archive`);
  assert.deepEqual(fs.readdirSync(svc.tmp), [], 'no extraction left behind');
});

test('load refuses an oversized config file in the archive', async (t) => {
  const dir = tmp(t);
  const svc = new ImageService({ root: path.join(dir, 'root') });
  const big = Buffer.alloc((8 << 20) + 1, 0x20);
  const tar = await tarOf([[{ name: 'manifest.json' }, Buffer.from(JSON.stringify([{ Config: 'c.json', RepoTags: ['x:1'], Layers: [] }]))], [{ name: 'c.json' }, big]]);
  await assert.rejects(svc.load(one(tar)), /archive config c.json: larger than the 8 MiB allowed/);
});

test('import refuses a tar extended header over 1 MiB (Go archive/tar maxSpecialFileSize)', async (t) => {
  const dir = tmp(t);
  const svc = new ImageService({ root: path.join(dir, 'root') });
  const tar = await tarOf([[{ name: 'f', xattrs: { 'user.big': Buffer.alloc(2 << 20, 0x61) } }, Buffer.from('x')]]);
  await assert.rejects(svc.import(one(tar)), /extended header of \d+ bytes: larger than 1048576 allowed/);
  assert.deepEqual(svc.content.list(), []);
});

// ---- item 9: the image store lock ----

function deadPid(): number {
  const r = spawnSync('true');
  return r.pid!;
}

test('an empty lock file left by an older berthd (full disk) does not wedge the store', async (t) => {
  const root = tmp(t);
  const store = new ImageStore(root);
  fs.writeFileSync(path.join(root, 'images', 'lock'), '');
  await store.setRefs({ 'docker.io/library/a:1': sha256('a') });
  assert.deepEqual(store.refs(), { 'docker.io/library/a:1': sha256('a') });
  assert.equal(fs.existsSync(path.join(root, 'images', 'lock')), false, 'released');
});

test('a lock naming a dead process, or a reused pid, is taken over', async (t) => {
  const root = tmp(t);
  const store = new ImageStore(root);
  const lock = path.join(root, 'images', 'lock');
  fs.writeFileSync(lock, `${deadPid()}\n`);
  await store.setRefs({ 'docker.io/library/a:1': sha256('a') });
  // our own pid, but another start time: a daemon that had this pid before a reboot
  fs.writeFileSync(lock, `${process.pid} 1\n`);
  await store.delete(sha256('nothing'));
  assert.equal(fs.existsSync(lock), false);
});

test('temp lock files of a killed process are removed when the store is opened', (t) => {
  const root = tmp(t);
  new ImageStore(root);
  const dead = path.join(root, 'images', `.lock.${deadPid()}.abcd1234`);
  const live = path.join(root, 'images', `.lock.${process.pid}.abcd1234`);
  for (const f of [dead, live]) fs.writeFileSync(f, 'x');
  new ImageStore(root);
  assert.equal(fs.existsSync(dead), false);
  assert.equal(fs.existsSync(live), true, 'a live process may be about to link it');
});

test('waiting for a live holder yields to the event loop, then proceeds once the holder is gone', async (t) => {
  const root = tmp(t);
  const store = new ImageStore(root);
  const holder = spawn('sleep', ['600'], { stdio: 'ignore' });
  t.after(() => { holder.kill('SIGKILL'); });
  await new Promise((r) => holder.once('spawn', r));
  const lock = path.join(root, 'images', 'lock');
  fs.writeFileSync(lock, `${holder.pid} ${pidStartTime(holder.pid!)}\n`);
  let settled = false;
  const p = store.setRefs({ 'docker.io/library/a:1': sha256('a') }).finally(() => { settled = true; });
  // timers keep firing while it waits (the old lock spun in a synchronous sleep)
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(settled, false, 'still waiting for the holder');
  assert.equal(fs.readFileSync(lock, 'utf8'), `${holder.pid} ${pidStartTime(holder.pid!)}\n`, 'the holder keeps its lock');
  const gone = new Promise((r) => holder.once('exit', r));
  holder.kill('SIGKILL');
  await gone;
  await p;
  assert.deepEqual(store.refs(), { 'docker.io/library/a:1': sha256('a') });
});

test('calls in one process take the lock in turn and see each other\'s writes', async (t) => {
  const root = tmp(t);
  const store = new ImageStore(root);
  await Promise.all(Array.from({ length: 20 }, (_, i) => store.setRefs({ [`docker.io/library/a:${i}`]: sha256(String(i)) })));
  assert.equal(Object.keys(store.refs()).length, 20);
  assert.deepEqual(fs.readdirSync(path.join(root, 'images')).sort(), ['db', 'refs.json'], 'no lock or temp file left');
});

// ---- item 12 (part): orphaned ingest files ----

test('opening the content store removes ingest files whose writer is gone, and keeps live ones', async (t) => {
  const root = tmp(t);
  const first = new ContentStore(root);
  const live = first.writer();
  live.write(Buffer.from('in flight'));
  const ingest = first.ingestDir;
  const old = path.join(ingest, '0123456789abcdef.tmp');       // an older berthd's name
  const dead = path.join(ingest, `${deadPid()}-12345.0123456789abcdef.tmp`);
  for (const f of [old, dead]) fs.writeFileSync(f, 'partial');
  new ContentStore(root);
  assert.deepEqual(fs.readdirSync(ingest), [path.basename(live.tmp)]);
  live.write(Buffer.from('!'));
  const d = live.commit();
  assert.equal(first.read(d).toString(), 'in flight!');
});

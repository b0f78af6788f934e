// The container endpoints in process against a fake ContainerService whose "monitor" is a real unix
// socket speaking the attach protocol (stdcopy frames, STDIN/CLOSE_STDIN/RESIZE): create/start/wait/
// logs/attach/list/inspect/rm through the typed client, raw HTTP, and the real docker CLI when present.
import { StatsSampler } from '../../src/containers/stats.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { toContainerConfig, statusText, toInspect, toSummary, type WireContainerConfig } from '../../src/api/container-wire.js';
import { parseDetachKeys } from '../../src/api/hijack.js';
import { fixedNano } from '../../src/api/routes/containers.js';
import { createApiServer, listenUnix, type ApiServices } from '../../src/api/server.js';
import { createRequest, nanoCpus, parseUlimit, ramInBytes, runErrorCode } from '../../src/cli/docker/containers.js';
import { ApiError, Client, demux } from '../../src/client/index.js';
import type { ContainerConfig } from '../../src/containers/config.js';
import type { Container, ContainerService, ListOptions, LogLine, LogOptions, WaitCondition } from '../../src/containers/types.js';
import { BerthError } from '../../src/errors.js';
import { EventBus } from '../../src/daemon/events.js';
import type { HostFacts } from '../../src/daemon/host.js';
import { ImageService } from '../../src/images/index.js';
import { ATTACH, attachFrame, FrameReader } from '../../src/monitor/protocol.js';

const FACTS: HostFacts = { engineId: 'id-1', hostname: 'h', kernel: '6.1.0', operatingSystem: 'Test OS', osVersion: '1', arch: 'x86_64', goArch: 'amd64', ncpu: 3, memTotal: 1 << 30, cgroupMode: 'v2', backingFs: 'extfs', openFds: 5 };
const ZERO = '0001-01-01T00:00:00Z';
const DOCKER = '/usr/local/bin/docker';

interface Fake { c: Container; server: net.Server; clients: Set<net.Socket>; stdin: Buffer[]; stdinClosed: boolean; lines: LogLine[]; exit?: (code: number) => void; waiters: Array<() => void>; resized?: [number, number] }

/** A ContainerService with the semantics the API relies on; processes are scripted by their cmd. */
class FakeService implements ContainerService {
  readonly all = new Map<string, Fake>();
  private n = 0;
  constructor(private readonly dir: string, private readonly events: EventBus) {}

  async create(name: string | undefined, config: ContainerConfig) {
    if (!config.image.startsWith('busybox')) throw new BerthError('NotFound', `No such image: ${config.image.includes(':') ? config.image : `${config.image}:latest`}`);
    const id = (++this.n).toString(16).padStart(2, '0').repeat(32);
    name ??= `fake_${this.n}`;
    const clash = [...this.all.values()].find((f) => f.c.name === name);
    if (clash) throw new BerthError('Conflict', `Conflict. The container name "/${name}" is already in use by container "${clash.c.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    const argv = [...(config.entrypoint ?? []), ...(config.cmd ?? ['sh'])];
    const sock = path.join(this.dir, `${id.slice(0, 8)}.sock`);
    const f: Fake = {
      c: { id, name, created: new Date().toISOString(), image: config.image, imageId: `sha256:${'b'.repeat(64)}`, config, path: argv[0]!, args: argv.slice(1), logPath: '/x/json.log', attachSocket: sock, restartCount: 0,
        state: { status: 'created', pid: 0, exitCode: 0, oomKilled: false, error: '', startedAt: ZERO, finishedAt: ZERO } },
      server: net.createServer(), clients: new Set(), stdin: [], stdinClosed: false, lines: [], waiters: [],
    };
    // the monitor listens from create on, as the real one must for attach-before-start
    f.server.on('connection', (s) => {
      f.clients.add(s);
      const r = new FrameReader(true);
      s.on('data', (d: Buffer) => {
        for (const m of r.push(d)) {
          if (m.type === ATTACH.STDIN) { if (f.c.state.status === 'running' && f.c.path === 'cat') this.output(f, 1, m.payload); else f.stdin.push(m.payload); }
          if (m.type === ATTACH.CLOSE_STDIN) { f.stdinClosed = true; if (f.c.path === 'cat') f.exit?.(0); }
          if (m.type === ATTACH.RESIZE) f.resized = [m.payload.readUInt16BE(0), m.payload.readUInt16BE(2)];
        }
      });
      s.on('close', () => f.clients.delete(s));
      s.on('error', () => {});
    });
    await new Promise<void>((r) => f.server.listen(sock, r));
    this.all.set(id, f);
    this.events.publish('container', 'create', id, { image: config.image, name });
    return { id, warnings: [] };
  }

  private output(f: Fake, stream: 1 | 2, p: Buffer): void {
    f.lines.push({ stream: stream === 1 ? 'stdout' : 'stderr', line: p.toString(), time: new Date().toISOString() });
    for (const s of f.clients) s.write(attachFrame(stream, p));
  }

  private readonly nextStart = new Map<string, Set<(sock: string) => Promise<void>>>();
  onNextStart(id: string, connect: (sock: string) => Promise<void>) {
    const set = this.nextStart.get(id) ?? new Set();
    this.nextStart.set(id, set.add(connect));
    return () => { set.delete(connect); };
  }
  async start(ref: string) {
    const f = this.find(ref);
    if (f.c.state.status === 'running') return false;
    // as the real one: attaches waiting for this start are connected before the process runs
    const waiting = [...(this.nextStart.get(f.c.id) ?? [])];
    this.nextStart.delete(f.c.id);
    await Promise.all(waiting.map((w) => w(f.c.attachSocket).catch(() => undefined)));
    f.c.state = { ...f.c.state, status: 'running', pid: 4242, startedAt: new Date().toISOString(), finishedAt: ZERO };
    this.events.publish('container', 'start', f.c.id, { name: f.c.name });
    let done = false;
    f.exit = (code) => {
      if (done) return;
      done = true;
      f.c.state = { ...f.c.state, status: 'exited', pid: 0, exitCode: code, finishedAt: new Date().toISOString() };
      for (const s of f.clients) s.end();
      f.server.close();
      this.events.publish('container', 'die', f.c.id, { exitCode: String(code) });
      const auto = (f.c.config.host as { autoRemove?: boolean }).autoRemove;
      if (auto) this.drop(f);
      for (const w of f.waiters.splice(0)) w();
    };
    const [cmd, ...args] = [f.c.path, ...f.c.args];
    setImmediate(() => {
      if (cmd === 'echo') { this.output(f, 1, Buffer.from(`${args.join(' ')}\n`)); this.output(f, 2, Buffer.from('to stderr\n')); f.exit!(0); }
      else if (cmd === 'sh' && args[0] === '-c' && /^exit \d+$/.test(args[1] ?? '')) f.exit!(Number(args[1]!.slice(5)));
      else if (cmd === 'cat') { for (const b of f.stdin) this.output(f, 1, b); if (f.stdinClosed) f.exit!(0); }
      else if (cmd === 'nosuch') { /* never */ }
    });
    return true;
  }

  async stop(ref: string) { const f = this.find(ref); if (f.c.state.status !== 'running') return false; f.exit!(143); return true; }
  async restart(ref: string) { await this.stop(ref); await this.start(ref); }
  async kill(ref: string, signal?: string) {
    const f = this.find(ref);
    if (f.c.state.status !== 'running') throw new BerthError('Conflict', `Cannot kill container: ${ref}: Container ${f.c.id} is not running`);
    f.exit!(signal === 'TERM' ? 143 : 137);
  }
  wait(ref: string, condition: WaitCondition = 'not-running', signal?: AbortSignal) {
    const f = this.find(ref);
    if (condition === 'not-running' && f.c.state.status !== 'running') return Promise.resolve({ exitCode: f.c.state.exitCode });
    return new Promise<{ exitCode: number }>((resolve, reject) => {
      f.waiters.push(() => resolve({ exitCode: f.c.state.exitCode }));
      signal?.addEventListener('abort', () => reject(new BerthError('Unavailable', 'aborted')));
    });
  }
  async remove(ref: string, opts: { force?: boolean } = {}) {
    const f = this.find(ref);
    if (f.c.state.status === 'running' && !opts.force) throw new BerthError('Conflict', `cannot remove container "/${f.c.name}": container is running: stop the container before removing or force remove`);
    if (f.c.state.status === 'running') f.exit!(137);
    this.drop(f);
  }
  private drop(f: Fake) { if (this.all.delete(f.c.id)) { f.server.close(); this.events.publish('container', 'destroy', f.c.id, { name: f.c.name }); } }
  async rename(ref: string, name: string) { this.find(ref).c.name = name.replace(/^\//, ''); }
  list(_o?: ListOptions) { return [...this.all.values()].map((f) => f.c); }
  get(ref: string) { return this.find(ref).c; }
  private find(ref: string): Fake {
    const r = ref.replace(/^\//, '');
    const f = this.all.get(r) ?? [...this.all.values()].find((x) => x.c.name === r) ?? [...this.all.values()].find((x) => x.c.id.startsWith(r));
    if (!f) throw new BerthError('NotFound', `No such container: ${ref}`);
    return f;
  }
  async *logs(ref: string, o: LogOptions = {}): AsyncIterable<LogLine> {
    const f = this.find(ref);
    let i = o.tail !== undefined ? Math.max(0, f.lines.length - o.tail) : 0;
    for (;;) {
      for (; i < f.lines.length; i++) {
        const l = f.lines[i]!;
        if ((l.stream === 'stdout' && o.stdout === false) || (l.stream === 'stderr' && o.stderr === false)) continue;
        if (o.since !== undefined && Date.parse(l.time) / 1000 < Number(o.since)) continue;
        yield l;
      }
      if (!o.follow || f.c.state.status !== 'running' || o.signal?.aborted) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  async resize(ref: string, h: number, w: number) { this.find(ref).resized = [h, w]; }
  counts() { const l = this.list(); return { running: l.filter((c) => c.state.status === 'running').length, paused: 0, stopped: l.filter((c) => c.state.status !== 'running').length }; }
  // stats, top, pause, update: tested against the real service (integration/stats.test.ts)
  readonly sampler = new StatsSampler();
  statsTarget(ref: string) { return { container: this.get(ref) }; }
  async top(): Promise<never> { throw new BerthError('NotImplemented', 'fake'); }
  async pause(): Promise<void> { throw new BerthError('NotImplemented', 'fake'); }
  async unpause(): Promise<void> { throw new BerthError('NotImplemented', 'fake'); }
  async update(): Promise<never> { throw new BerthError('NotImplemented', 'fake'); }
  close() { for (const f of this.all.values()) f.server.close(); }
}

function rawReq(socket: string, method: string, p: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: p, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function collect(src: AsyncIterable<Uint8Array>): Promise<{ out: string; err: string }> {
  let out = '', err = '';
  for await (const f of demux(src)) { if (f.stream === 2) err += f.payload.toString(); else out += f.payload.toString(); }
  return { out, err };
}

describe('container wire mapping (pure)', () => {
  test('create request → ContainerConfig', () => {
    const c = toContainerConfig({
      Image: 'busybox', Cmd: 'echo hi', Entrypoint: [''], Env: ['A=b'], Tty: true, OpenStdin: true, StdinOnce: true, Labels: { a: 'b' }, StopTimeout: 3,
      HostConfig: { Memory: 32 << 20, MemorySwap: -1, NanoCpus: 1.5e9, PidsLimit: 10, CapAdd: ['NET_ADMIN'], NetworkMode: 'default', AutoRemove: true, Binds: ['/tmp:/data:ro'], Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 20 }], Devices: [{ PathOnHost: '/dev/null' }], Tmpfs: { '/run': 'size=1m' } },
    });
    assert.deepEqual(c.cmd, ['echo hi']);
    assert.deepEqual(c.entrypoint, []);
    assert.equal(c.tty, true);
    assert.equal(c.stdinOnce, true);
    assert.equal(c.stopTimeout, 3);
    assert.equal(c.host.memory, 32 << 20);
    assert.equal(c.host.memorySwap, -1);
    assert.equal(c.host.nanoCpus, 1.5e9);
    assert.equal(c.host.autoRemove, true);
    assert.deepEqual(c.host.ulimits, [{ name: 'nofile', soft: 10, hard: 20 }]);
    assert.deepEqual(c.host.devices, [{ pathOnHost: '/dev/null' }]);
    assert.equal(c.host.networkMode, 'default');
    assert.ok(!('workingDir' in c), 'unset fields are left out');
  });

  test('create request checks (moby wording)', () => {
    assert.throws(() => toContainerConfig(undefined), /config cannot be empty/);
    assert.throws(() => toContainerConfig({ Image: 'x', HostConfig: { Memory: 1024 } }), /Minimum memory limit allowed is 6MB/);
    assert.throws(() => toContainerConfig({ Image: 'x', HostConfig: { Memory: 64 << 20, MemorySwap: 32 << 20 } }), /Minimum memoryswap limit/);
    assert.throws(() => toContainerConfig({ Image: 'x', HostConfig: { NanoCpus: 1e9, CpuQuota: 1000 } }), /Nano CPUs and CPU Quota/);
    assert.throws(() => toContainerConfig({ Image: 'x', Cmd: 5 as unknown as string }), (e: BerthError) => e.kind === 'InvalidArgument');
  });

  const base = (over: Partial<Container['state']> = {}, cfg: Partial<WireContainerConfig> = {}): Container => ({
    id: 'a'.repeat(64), name: 'web', created: '2025-01-01T00:00:00.5Z', image: 'busybox', imageId: `sha256:${'b'.repeat(64)}`,
    config: { image: 'busybox', cmd: ['sleep', '100'], host: { networkMode: 'default', binds: ['/tmp:/data:ro'] }, ...cfg } as ContainerConfig,
    state: { status: 'running', pid: 7, exitCode: 0, oomKilled: false, error: '', startedAt: new Date(Date.now() - 5000).toISOString(), finishedAt: ZERO, ...over },
    path: 'sleep', args: ['100'], logPath: '/l', attachSocket: '/s', restartCount: 0,
  });

  test('inspect and summary shapes', () => {
    const i = toInspect(base({}, { tty: true, stopTimeout: 4 } as Partial<WireContainerConfig>));
    assert.equal(i.Name, '/web');
    assert.equal(i.State.Running, true);
    assert.equal(i.State.Pid, 7);
    assert.equal(i.State.FinishedAt, ZERO);
    assert.equal(i.Config.Tty, true);
    assert.equal(i.Config.StopTimeout, 4);
    assert.equal(i.Config.Hostname, 'aaaaaaaaaaaa');
    assert.equal(i.Driver, 'overlay2');
    assert.equal(i.Image, `sha256:${'b'.repeat(64)}`);
    assert.deepEqual(i.Mounts, [{ Type: 'bind', Source: '/tmp', Destination: '/data', Mode: 'ro', RW: false, Propagation: 'rprivate' }]); // docker's Mode is the -v mode string as given
    assert.ok(i.NetworkSettings.Networks.bridge);
    const s = toSummary(base());
    assert.deepEqual(s.Names, ['/web']);
    assert.equal(s.Command, 'sleep 100');
    assert.equal(s.Created, 1735689600);
    assert.equal(s.Status, 'Up 5 seconds');
  });

  test('status text as moby State.String', () => {
    const now = Date.parse('2025-01-01T01:00:00Z');
    assert.equal(statusText({ status: 'created', pid: 0, exitCode: 0, oomKilled: false, error: '', startedAt: ZERO, finishedAt: ZERO }, now), 'Created');
    assert.equal(statusText({ status: 'exited', pid: 0, exitCode: 3, oomKilled: false, error: '', startedAt: '2025-01-01T00:00:00Z', finishedAt: '2025-01-01T00:58:00Z' }, now), 'Exited (3) 2 minutes ago');
    assert.equal(statusText({ status: 'running', pid: 1, exitCode: 0, oomKilled: false, error: '', startedAt: '2025-01-01T00:59:30Z', finishedAt: ZERO }, now), 'Up 30 seconds');
    assert.equal(statusText({ status: 'running', pid: 1, exitCode: 0, oomKilled: false, error: '', startedAt: '2025-01-01T00:00:00Z', finishedAt: ZERO }, now), 'Up About an hour');
  });

  test('detach keys, timestamps, CLI flag values', () => {
    assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
    assert.deepEqual([...parseDetachKeys('a,ctrl-@')], [97, 0]);
    assert.throws(() => parseDetachKeys('ctrl-pp'), /Invalid detach keys/);
    assert.equal(fixedNano('2025-01-01T00:00:00.12Z'), '2025-01-01T00:00:00.120000000Z');
    assert.equal(ramInBytes('32m'), 32 << 20);
    assert.equal(ramInBytes('1.5g'), 1.5 * 2 ** 30);
    assert.equal(nanoCpus('0.5'), 5e8);
    assert.deepEqual(parseUlimit('nofile=10:20'), { Name: 'nofile', Soft: 10, Hard: 20 });
    assert.equal(runErrorCode('exec: "nope": executable file not found in $PATH'), 127);
    assert.equal(runErrorCode('open /x: permission denied'), 126);
    assert.equal(runErrorCode('something else'), 125);
  });

  test('berth run flags → CreateRequest as the docker CLI sends it', () => {
    const o = createRequest(['-i', '--rm', '--name', 'x', '-e', 'A=1', '-m', '32m', '--cpus', '1', '--pids-limit', '5', '--cap-drop', 'ALL', '--read-only', '--tmpfs', '/run:size=1m',
      '--ulimit', 'nofile=5', '--network', 'none', '-v', '/tmp:/t:ro', '-l', 'k=v', '--stop-signal', 'INT', '--stop-timeout', '2', '--entrypoint', '', 'busybox', 'sh', '-c', 'exit 3'], true);
    const b = o.body;
    assert.equal(o.name, 'x');
    assert.deepEqual(b.Cmd, ['sh', '-c', 'exit 3']);
    assert.deepEqual(b.Entrypoint, ['']);
    assert.equal(b.AttachStdin, true);
    assert.equal(b.OpenStdin, true);
    assert.equal(b.StdinOnce, true);
    assert.equal(b.HostConfig!.AutoRemove, true);
    assert.equal(b.HostConfig!.Memory, 32 << 20);
    assert.equal(b.HostConfig!.NanoCpus, 1e9);
    assert.equal(b.HostConfig!.PidsLimit, 5);
    assert.equal(b.HostConfig!.NetworkMode, 'none');
    assert.deepEqual(b.HostConfig!.Tmpfs, { '/run': 'size=1m' });
    assert.deepEqual(b.HostConfig!.Ulimits, [{ Name: 'nofile', Soft: 5, Hard: 5 }]);
    assert.deepEqual(b.Labels, { k: 'v' });
    assert.equal(b.StopSignal, 'INT');
    assert.equal(b.StopTimeout, 2);
    const d = createRequest(['-d', 'busybox'], true);
    assert.equal(d.detach, true);
    assert.equal(d.body.AttachStdout, false);
    assert.equal(d.body.Cmd, null);
  });
});

describe('container endpoints in process (fake service)', () => {
  let dir: string;
  let socket: string;
  let server: http.Server;
  let svc: FakeService;
  let events: EventBus;
  let c: Client;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-apic-'));
    socket = path.join(dir, 'api.sock');
    events = new EventBus();
    svc = new FakeService(dir, events);
    const s: ApiServices = { images: new ImageService({ root: path.join(dir, 'root') }), events, root: path.join(dir, 'root'), host: () => FACTS, containers: svc };
    server = createApiServer(s);
    await listenUnix(server, { socket });
    c = new Client(`unix://${socket}`);
  });
  after(async () => {
    c.close();
    svc.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('create: 201, 404 No such image, 409 name conflict, 400 bad JSON', async () => {
    const r = await c.createContainer({ Image: 'busybox', Cmd: ['sleep', '1'] }, { name: 'one' });
    assert.match(r.Id, /^[0-9a-f]{64}$/);
    assert.deepEqual(r.Warnings, []);
    await assert.rejects(c.createContainer({ Image: 'alpine' }), (e: ApiError) => e.status === 404 && e.message === 'No such image: alpine:latest');
    await assert.rejects(c.createContainer({ Image: 'busybox' }, { name: 'one' }), (e: ApiError) => e.status === 409 && e.message.startsWith('Conflict. The container name "/one" is already in use by container'));
    const bad = await rawReq(socket, 'POST', '/v1.50/containers/create', '{nope', { 'Content-Type': 'application/json' });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers['content-type'], 'application/json');
    assert.match(JSON.parse(bad.body.toString()).message, /invalid JSON/);
    await c.removeContainer('one', { force: true });
  });

  test('run sequence: attach (101) before start, wait headers at once, output framed, exit code', async () => {
    const { Id } = await c.createContainer({ Image: 'busybox', Cmd: ['echo', 'hi'], AttachStdout: true, AttachStderr: true, HostConfig: { AutoRemove: true } });
    const sock = await c.attachContainer(Id, { stdout: true, stderr: true });
    sock.socket.end(); // the CLI half-closes at once without stdin
    const out = collect((async function* () { if (sock.head.length) yield sock.head; for await (const x of sock.socket) yield x as Uint8Array; })());
    const w = await c.waitContainer(Id, 'removed'); // resolves on headers alone
    assert.equal(await c.startContainer(Id), 204);
    assert.deepEqual(await out, { out: 'hi\n', err: 'to stderr\n' });
    assert.deepEqual(await w.result, { StatusCode: 0, Error: null });
    await assert.rejects(c.inspectContainer(Id), (e: ApiError) => e.status === 404 && e.message === `No such container: ${Id}`);
  });

  test('attach with stdin: bytes before start are kept; half-close closes stdin; output after FIN', async () => {
    const { Id } = await c.createContainer({ Image: 'busybox', Cmd: ['cat'], OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true, AttachStderr: true });
    const sock = await c.attachContainer(Id, { stdin: true });
    sock.socket.write('x\n');
    sock.socket.end();
    const out = collect((async function* () { if (sock.head.length) yield sock.head; for await (const x of sock.socket) yield x as Uint8Array; })());
    const w = await c.waitContainer(Id, 'next-exit');
    await new Promise((r) => setTimeout(r, 50));
    await c.startContainer(Id);
    assert.equal((await out).out, 'x\n');
    assert.equal((await w.result).StatusCode, 0);
    await c.removeContainer(Id);
  });

  test('start/stop 304s, kill, wait, rm of a running container, rename, resize, list filters, logs', async () => {
    const { Id } = await c.createContainer({ Image: 'busybox', Cmd: ['sleep', '100'], Labels: { tier: 'web' } }, { name: 'web' });
    assert.equal(await c.startContainer('web'), 204);
    assert.equal(await c.startContainer('web'), 304);
    await assert.rejects(c.removeContainer('web'), (e: ApiError) => e.status === 409 && e.message === 'cannot remove container "/web": container is running: stop the container before removing or force remove');
    assert.equal((await c.listContainers()).length, 1);
    assert.equal((await c.listContainers({ filters: { label: ['tier=web'] } })).length, 1);
    assert.equal((await c.listContainers({ filters: { label: ['tier=db'] } })).length, 0);
    assert.equal((await c.listContainers({ filters: { name: ['we'] } })).length, 1);
    assert.equal((await c.listContainers({ filters: { status: ['exited'] } })).length, 0);
    const cli = await rawReq(socket, 'GET', `/v1.50/containers/json?filters=${encodeURIComponent(JSON.stringify({ id: { [Id.slice(0, 6)]: true }, ancestor: { busybox: true } }))}`);
    assert.equal(JSON.parse(cli.body.toString()).length, 1);
    const badf = await rawReq(socket, 'GET', `/containers/json?filters=${encodeURIComponent('{"status":["nope"]}')}`);
    assert.equal(badf.status, 400);
    assert.equal(JSON.parse(badf.body.toString()).message, "invalid filter 'status=nope'");
    const s = (await c.listContainers())[0]!;
    assert.equal(s.Names[0], '/web');
    assert.match(s.Status, /^Up /);
    assert.equal((await c.inspectContainer('web')).State.Running, true);
    assert.equal(await c.resizeContainer('web', 30, 100), 200);
    assert.deepEqual(svc.all.get(Id)!.resized, [30, 100]);
    assert.equal(await c.renameContainer('web', 'web2'), 204);
    assert.equal((await c.inspectContainer(Id)).Name, '/web2');
    const w = await c.waitContainer('web2');
    await c.killContainer('web2');
    assert.equal((await w.result).StatusCode, 137);
    assert.equal(await c.stopContainer('web2'), 304);
    await assert.rejects(c.killContainer('web2'), (e: ApiError) => e.status === 409);
    const st = await c.inspectContainer('web2');
    assert.equal(st.State.Status, 'exited');
    assert.equal(st.State.ExitCode, 137);
    assert.equal((await c.listContainers()).length, 0);
    assert.match((await c.listContainers({ all: true }))[0]!.Status, /^Exited \(137\) /);
    // logs: frames, timestamps, both streams required
    svc.all.get(Id)!.lines.push({ stream: 'stdout', line: 'a\n', time: '2025-01-01T00:00:00.5Z' }, { stream: 'stderr', line: 'b\n', time: '2025-01-01T00:00:01Z' });
    const lg = await collect(await c.containerLogs(Id, { timestamps: true }));
    assert.deepEqual(lg, { out: '2025-01-01T00:00:00.500000000Z a\n', err: '2025-01-01T00:00:01.000000000Z b\n' });
    const tail = await collect(await c.containerLogs(Id, { tail: '1' }));
    assert.deepEqual(tail, { out: '', err: 'b\n' });
    const none = await rawReq(socket, 'GET', `/containers/${Id}/logs`);
    assert.equal(none.status, 400);
    assert.equal(await c.removeContainer(Id), 204);
    await assert.rejects(c.inspectContainer('web2'), (e: ApiError) => e.status === 404 && e.message === 'No such container: web2');
  });

  test('wait: bad condition 400, unknown container 404 before headers; a dropped client ends the wait', async () => {
    const bad = await rawReq(socket, 'POST', '/containers/nope/wait?condition=bogus');
    assert.equal(bad.status, 400);
    const nf = await rawReq(socket, 'POST', '/containers/nope/wait');
    assert.equal(nf.status, 404);
    assert.equal(JSON.parse(nf.body.toString()).message, 'No such container: nope');
    const { Id } = await c.createContainer({ Image: 'busybox', Cmd: ['sleep', '100'] });
    await c.startContainer(Id);
    const w = await c.waitContainer(Id, 'next-exit');
    w.abort();
    await new Promise((r) => setTimeout(r, 50));
    await c.removeContainer(Id, { force: true });
  });

  test('attach errors before the upgrade are plain HTTP errors', async () => {
    await assert.rejects(c.attachContainer('nope'), (e: ApiError) => e.status === 404 && e.message === 'No such container: nope');
    const { Id } = await c.createContainer({ Image: 'busybox', Cmd: ['sleep', '1'] });
    await assert.rejects(c.attachContainer(Id, { detachKeys: 'ctrl-zz' }), (e: ApiError) => e.status === 400);
    await c.removeContainer(Id, { force: true });
  });

  test('events pass container actions through', async () => {
    const seen: string[] = [];
    const off = events.subscribe((e) => { if (e.Type === 'container') seen.push(e.Action); });
    const { Id } = await c.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'exit 3'] });
    const w = await c.waitContainer(Id, 'next-exit');
    await c.startContainer(Id);
    assert.equal((await w.result).StatusCode, 3);
    await c.removeContainer(Id);
    off();
    assert.deepEqual(seen, ['create', 'start', 'die', 'destroy']);
  });

  const missingDocker = !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : undefined;
  const docker = (args: string[], input?: string) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(DOCKER, args, { env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(dir, 'dc') }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.on('close', (code) => { clearTimeout(t); resolve({ code: code ?? -1, stdout, stderr }); });
    child.stdin.end(input ?? '');
  });

  test('the real docker CLI: run --rm, exit codes, piped stdin, ps/inspect/logs/stop/rm, errors', { skip: missingDocker }, async () => {
    let r = await docker(['run', '--rm', 'busybox', 'echo', 'hi']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.stderr, 'to stderr\n');
    r = await docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3, r.stderr);
    r = await docker(['run', '-i', '--rm', 'busybox', 'cat'], 'x\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'x\n');
    r = await docker(['run', '-d', '--name', 'dweb', 'busybox', 'sleep', '100']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
    r = await docker(['ps']);
    assert.match(r.stdout, /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES\n/);
    assert.match(r.stdout, /busybox +"sleep 100" .* Up .* dweb\n/);
    r = await docker(['ps', '-q', '--filter', 'name=dweb']);
    assert.match(r.stdout, /^[0-9a-f]{12}\n$/);
    r = await docker(['inspect', '-f', '{{.State.Running}} {{.State.Pid}} {{.Name}}', 'dweb']);
    assert.equal(r.stdout, 'true 4242 /dweb\n');
    r = await docker(['logs', 'dweb']);
    assert.equal(r.code, 0, r.stderr);
    r = await docker(['run', '-d', '--name', 'dweb', 'busybox', 'sleep', '1']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /Conflict. The container name "\/dweb" is already in use/);
    r = await docker(['rm', 'dweb']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /container is running: stop the container before removing or force remove/);
    r = await docker(['stop', 'dweb']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'dweb\n');
    r = await docker(['rm', 'dweb']);
    assert.equal(r.code, 0, r.stderr);
    r = await docker(['inspect', 'nosuch']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No such object: nosuch/);
    r = await docker(['logs', 'nosuch']);
    assert.match(r.stderr, /No such container: nosuch/);
  });

  test('berth CLI commands in process', async () => {
    const { main } = await import('../../src/cli/docker/index.js');
    const prev = process.env.BERTH_HOST;
    process.env.BERTH_HOST = `unix://${socket}`;
    const write = process.stdout.write.bind(process.stdout);
    let out = '';
    (process.stdout as { write: unknown }).write = (s: string | Uint8Array) => { out += s.toString(); return true; };
    try {
      assert.equal(await main(['create', '--name', 'bc', 'busybox', 'sleep', '100']), 0);
      assert.equal(await main(['start', 'bc']), 0);
      out = '';
      assert.equal(await main(['ps', '--format', '{{.Names}} {{.Status}} {{.Command}}']), 0);
      assert.match(out, /^bc Up .* "sleep 100"\n$/);
      out = '';
      assert.equal(await main(['ps', '-a', '--format', '{{json .}}']), 0);
      assert.equal(JSON.parse(out).Names, 'bc');
      out = '';
      assert.equal(await main(['rm', '-f', 'bc']), 0);
      assert.equal(out, 'bc\n');
    } finally {
      (process.stdout as { write: unknown }).write = write;
      if (prev === undefined) delete process.env.BERTH_HOST; else process.env.BERTH_HOST = prev;
    }
  });
});


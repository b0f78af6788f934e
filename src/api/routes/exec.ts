// api/routes/exec: `docker exec` — create, start (hijacked, or detached), inspect, resize. Thin: the
// container service runs the process under its own monitor and releases it once the stream is attached.
import type * as http from 'node:http';
import type * as net from 'node:net';
import { Duplex, Writable } from 'node:stream';
import { BerthError } from '../../errors.js';
import type { Containers } from '../../containers/service.js';
import { connectUnix, MULTIPLEXED, RAW_STREAM, StreamBridge, parseDetachKeys, type Hijack, type HijackRoutes } from '../hijack.js';
import { parseJson, readJson, sendEmpty, sendJson } from '../http.js';
import { checkBody } from '../schema/index.js';
import type { Router } from '../router.js';
import type { ApiServices } from '../server.js';

interface ExecCreateRequest {
  AttachStdin?: boolean; AttachStdout?: boolean; AttachStderr?: boolean; Tty?: boolean; Cmd?: string[]; Env?: string[];
  User?: string; WorkingDir?: string; Privileged?: boolean; DetachKeys?: string;
}
interface ExecStartRequest { Detach?: boolean; Tty?: boolean }

const attached = new Map<string, ExecCreateRequest>();

function execService(s: ApiServices): Containers {
  const c = s.containers as Containers | undefined;
  if (!c || typeof c.execCreate !== 'function') throw new BerthError('NotImplemented', 'exec is not available');
  return c;
}

export function execRoutes(r: Router, s: ApiServices, h?: HijackRoutes): void {
  r.post('/containers/{id}/exec', async ({ req, res, params }) => {
    const body = (await readJson<ExecCreateRequest>(req, 'execCreate', { required: true })) ?? {};
    if (!Array.isArray(body.Cmd) || body.Cmd.length === 0) throw new BerthError('InvalidArgument', 'No exec command specified');
    if (body.DetachKeys) parseDetachKeys(body.DetachKeys);
    const id = await execService(s).execCreate(params.id!, {
      cmd: body.Cmd, env: body.Env ?? undefined, user: body.User || undefined, workingDir: body.WorkingDir || undefined,
      tty: !!body.Tty, attachStdin: !!body.AttachStdin, privileged: !!body.Privileged,
    });
    attached.set(id, body);
    sendJson(res, 201, { Id: id });
  });

  // Detach:true comes as a plain request (docker exec -d); the container keeps the process
  r.post('/exec/{id}/start', async ({ req, res, params }) => {
    const body = (await readJson<ExecStartRequest>(req, 'execStart', { required: true })) ?? {};
    if (!body.Detach) { await streamExec(s, plainHijack(req, res, params), body); return; }
    await execService(s).execStart(params.id!);
    sendEmpty(res, 200);
  });

  h?.add('/exec/{id}/start', async (x: Hijack) => {
    const start = ((x.body.length ? parseJson(x.body) : undefined) ?? {}) as ExecStartRequest;
    await checkBody('execStart', start);
    await streamExec(s, x, start);
  });


  r.get('/exec/{id}/json', ({ res, params }) => {
    const e = execService(s).execInspect(params.id!);
    const cfg = attached.get(e.id) ?? {};
    sendJson(res, 200, {
      ID: e.id, Running: e.running, ExitCode: e.exitCode, ProcessConfig: {
        tty: !!e.config.tty, entrypoint: e.config.cmd[0], arguments: e.config.cmd.slice(1), privileged: !!e.config.privileged, user: e.config.user ?? '',
      },
      OpenStdin: !!cfg.AttachStdin, OpenStderr: cfg.AttachStderr !== false, OpenStdout: cfg.AttachStdout !== false,
      CanRemove: false, ContainerID: e.containerId, DetachKeys: cfg.DetachKeys ?? '', Pid: e.pid,
    });
  });

  r.post('/exec/{id}/resize', async ({ res, params, query }) => {
    const h2 = Number(query.get('h') ?? 0), w = Number(query.get('w') ?? 0);
    if (!Number.isInteger(h2) || !Number.isInteger(w) || h2 < 0 || w < 0) throw new BerthError('InvalidArgument', 'invalid resize dimensions');
    await execService(s).execs.resize(params.id!, h2, w);
    sendEmpty(res, 200);
  });
}

/**
 * dockerd hijacks exec start whether or not the client asked for an upgrade: without `Upgrade: tcp`
 * (dockerode's default) it answers 200 and streams the output in the body. The request body is read,
 * so nothing more can come from the client: no stdin.
 */
function plainHijack(req: http.IncomingMessage, res: http.ServerResponse, params: Record<string, string>): Hijack {
  let accepted = false;
  const socket = new Duplex({
    read() { /* no stdin after a plain request's body */ },
    write: (chunk: Buffer, _enc, cb) => { res.write(chunk, () => cb()); },
    final: (cb) => { res.end(); cb(); },
    destroy: (err, cb) => { if (!res.writableEnded) res.destroy(); cb(err); },
  });
  socket.push(null);
  res.on('close', () => { if (!res.writableFinished) socket.destroy(); });
  return {
    req, socket: socket as unknown as net.Socket, params, query: new URLSearchParams(), version: '', body: Buffer.alloc(0), early: Buffer.alloc(0),
    accept(contentType: string) {
      if (accepted) return;
      accepted = true;
      res.writeHead(200, { 'Content-Type': contentType });
    },
    get accepted() { return accepted; },
  };
}

/** Runs an exec with its streams on the (hijacked or plain) connection. */
async function streamExec(s: ApiServices, x: Hijack, start: ExecStartRequest): Promise<void> {
    const svc = execService(s);
    const e = svc.execInspect(x.params.id!);
    const cfg = attached.get(e.id) ?? {};
    if (start.Detach) {
      x.accept(RAW_STREAM);
      await svc.execStart(e.id);
      x.socket.end();
      return;
    }
    const tty = start.Tty ?? !!e.config.tty; // the framing follows the start request, as moby's postContainerExecStart
    // the CLI reads the exit code (GET /exec/{id}/json) once the stream ends: end it only after the exit is
    // known, or after the reason a start failed went down the stream (the monitor hangs up on a failed start)
    let known!: (p: Promise<unknown> | undefined) => void;
    const exitKnown = new Promise<unknown>((r) => { known = r; });
    const out = new Writable({
      write: (chunk, _enc, cb) => { x.socket.write(chunk, cb); },
      // a detach ends the stream at once; the process runs on
      final: (cb) => { void (bridge.detached ? Promise.resolve() : exitKnown).finally(() => { x.socket.end(); cb(); }); },
    });
    const bridge = new StreamBridge(out, x.socket, {
      tty, stdin: !!cfg.AttachStdin, stdout: cfg.AttachStdout !== false, stderr: cfg.AttachStderr !== false,
      stdinOnce: true, detachKeys: parseDetachKeys(cfg.DetachKeys || 'ctrl-p,ctrl-q'), early: x.early,
    });
    x.accept(tty ? RAW_STREAM : MULTIPLEXED);
    let exited: Promise<unknown>;
    try {
      ({ exited } = await svc.execStart(e.id, async (sock) => { bridge.connect(await connectUnix(sock)); }));
    } catch (err) {
      // as moby: the 101 is out, so the reason goes down the stream and inspect reports 126/127
      const msg = Buffer.from(`OCI runtime exec failed: ${(err as Error).message}\r\n`);
      const hdr = Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]);
      hdr.writeUInt32BE(msg.length, 4);
      x.socket.end(tty ? msg : Buffer.concat([hdr, msg]));
      known(undefined);
      return;
    }
    known(exited.catch(() => undefined));
    await bridge.done;
    if (!bridge.detached) await exitKnown;
    attached.delete(e.id);
}

// API fuzzing: every route berthd serves (api/schema/routes.ts) gets malformed requests generated from
// its schema — each field of a JSON body set to values of the wrong types and out of range, nulls,
// 5000-deep nesting, 1 MB strings, garbage bodies, and query values of the wrong type. The daemon must
// answer each with a non-5xx status (wrong types exactly 400), stay alive, and `docker ps -a`,
// `docker images` and `docker info` must still work afterwards.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BODIES, ROUTES, type QueryKind, type RouteSpec } from '../../src/api/schema/index.js';
import type { Schema } from '../../src/api/schema/dsl.js';
import { isRoot, run } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const haveDocker = fs.existsSync('/usr/local/bin/docker');
const skip = !isRoot ? 'needs root' : !haveDocker ? 'needs the docker CLI at /usr/local/bin/docker' : false;

const IMAGE = 'bb:fuzz';
const MB = 'x'.repeat(1 << 20);
const DEEP = '['.repeat(5000) + ']'.repeat(5000);

interface Answer { status: number; body: string }

/**
 * One request; resolves with the status once the answer is complete, or once the headers of a 2xx
 * stream are in (events, attach, wait and logs -f stream until the client goes).
 */
function request(socket: string, method: string, p: string, body?: string | Buffer, contentType = 'application/json'): Promise<Answer> {
  return new Promise((resolve) => {
    // Content-Length always: Node's client sends a GET's body unframed otherwise
    const headers: Record<string, string | number> = body === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) };
    const req = http.request({ socketPath: socket, method, path: p, headers }, (res) => {
      const status = res.statusCode ?? 0;
      // every complete answer has a Content-Length; a 2xx without one is a stream
      if (status < 300 && res.headers['content-length'] === undefined) { req.destroy(); resolve({ status, body: '' }); return; }
      let b = '';
      res.on('data', (c: Buffer) => { if (b.length < 4096) b += c.toString(); });
      res.on('end', () => resolve({ status, body: b }));
      res.on('error', () => resolve({ status, body: b }));
    });
    // a connection reset counts as status 0 (the daemon did not answer), which the test reports
    req.on('error', (e) => resolve({ status: 0, body: `connection error: ${e.message}` }));
    req.end(body);
  });
}

// ---- values generated from the schema ----

const SAMPLES: Record<string, unknown> = { string: 'x', integer: 5, number: 1.5, boolean: true, array: [1], object: { a: 1 } };

function typesOf(s: Schema): string[] {
  const t = s.type;
  return Array.isArray(t) ? (t as string[]) : typeof t === 'string' ? [t] : [];
}

/** Values whose JSON type the schema does not allow (a number is wrong where only integers are, and vice versa not). */
function wrongValues(s: Schema): unknown[] {
  const ok = typesOf(s);
  const out = Object.entries(SAMPLES).filter(([t]) => !ok.includes(t) && !(t === 'integer' && ok.includes('number'))).map(([, v]) => v);
  if (!ok.includes('null')) out.push(null);
  if (ok.includes('integer')) {
    if (typeof s.maximum === 'number') out.push(1e30);
    if (typeof s.minimum === 'number') out.push(-1e30);
  }
  return out;
}

/** A value of the right type, to reach nested fields. */
function validValue(s: Schema): unknown {
  const t = typesOf(s).filter((x) => x !== 'null')[0];
  switch (t) {
    case 'object': return s.properties ? {} : {};
    case 'array': return [];
    case 'string': return '';
    case 'integer': return 0;
    case 'boolean': return false;
    default: return null;
  }
}

interface FieldCase { path: string[]; schema: Schema }

/** Every field of an object schema, nested objects included (list items and map values: one sample). */
function fields(s: Schema, at: string[] = [], depth = 0): FieldCase[] {
  const out: FieldCase[] = [];
  const props = s.properties as Record<string, Schema> | undefined;
  for (const [k, sub] of Object.entries(props ?? {})) {
    out.push({ path: [...at, k], schema: sub });
    if (depth < 3) {
      out.push(...fields(sub, [...at, k], depth + 1));
      const items = sub.items as Schema | undefined;
      if (items?.properties) out.push(...fields(items, [...at, k, '0'], depth + 1));
      const values = sub.additionalProperties as Schema | undefined;
      if (values && typeof values === 'object' && values.properties) out.push(...fields(values, [...at, k, 'key'], depth + 1));
      if (items && !items.properties) out.push({ path: [...at, k, '0'], schema: items });
      if (values && typeof values === 'object' && !values.properties && typesOf(values).length) out.push({ path: [...at, k, 'key'], schema: values });
    }
  }
  return out;
}

/** `base` with `value` at `p`, the containers on the way made of the right types. */
function setAt(base: Record<string, unknown>, p: string[], value: unknown, root: Schema): Record<string, unknown> {
  const copy = structuredClone(base);
  let o: Record<string, unknown> | unknown[] = copy;
  let s: Schema = root;
  for (let i = 0; i < p.length - 1; i++) {
    const k = p[i]!;
    const props = s.properties as Record<string, Schema> | undefined;
    const next: Schema = props?.[k] ?? (s.items as Schema) ?? (s.additionalProperties as Schema);
    const cur = (o as Record<string, unknown>)[k];
    if (cur === undefined || cur === null || typeof cur !== 'object') (o as Record<string, unknown>)[k] = typesOf(next).includes('array') && !typesOf(next).includes('object') ? [] : validValue(next);
    o = (o as Record<string, unknown>)[k] as Record<string, unknown>;
    s = next;
  }
  (o as Record<string, unknown>)[p[p.length - 1]!] = value;
  return copy;
}

/** Bad values for a query parameter of this kind; strings take any value, so only a long one. */
function badQueryValues(kind: QueryKind): string[] {
  if (typeof kind !== 'string') return ['bogus', '1'];
  switch (kind) {
    case 'bool': return ['maybe', '2x', '{}'];
    case 'int': return ['x', '1.5', '99999999999999999999', '-'];
    case 'filters': return ['{bad', '[1]', '{"a":5}', 'null x'];
    case 'timestamp': return ['yesterday', '12:00'];
    default: return ['x'.repeat(4000), '%00'];
  }
}

describe('API fuzzing', { skip }, () => {
  let d: Daemon;
  let execId = '';
  // a registry on loopback that refuses every login: /auth bodies of the right types get a 401 from it
  let registry = '';
  let refuser: http.Server | undefined;
  const docker = (...args: string[]) => run('/usr/local/bin/docker', args, { env: d.env });
  const failures: string[] = [];
  let sent = 0;
  const tally: Record<string, Record<number, number>> = {};

  before(async () => {
    d = await startDaemon();
    refuser = http.createServer((req, res) => { req.resume(); res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fuzz"', 'Docker-Distribution-Api-Version': 'registry/2.0', 'Content-Length': 0 }); res.end(); });
    await new Promise<void>((r) => refuser!.listen(0, '127.0.0.1', r));
    registry = `127.0.0.1:${(refuser.address() as { port: number }).port}`;
    const tarFile = path.join(d.dir, 'rootfs.tar');
    fs.writeFileSync(tarFile, await tarDir(await busyboxRootfs(), false));
    assert.equal((await docker('import', '-c', 'CMD ["sh"]', tarFile, IMAGE)).code, 0);
    assert.equal((await docker('run', '-d', '--name', 'target', IMAGE, 'sleep', '1000')).code, 0);
    const ex = await request(d.socket, 'POST', '/containers/target/exec', JSON.stringify({ Cmd: ['true'] }));
    assert.equal(ex.status, 201, ex.body);
    execId = JSON.parse(ex.body).Id;
  });
  after(async () => { await d?.stop(); refuser?.close(); });

  /**
   * The request path of a route: read-only routes and body routes act on real objects; routes that
   * change or remove what they name get names that do not exist (they answer 404 once the request
   * passed its checks), and nothing here reaches a registry off this machine.
   */
  function pathOf(route: string): string {
    const [method, pattern] = route.split(' ') as [string, string];
    const harmless = method === 'GET' || /\/exec$|\/resize$|\/exec\/\{id\}\/start$/.test(pattern);
    return pattern
      .replace('{id}', pattern.startsWith('/exec/') ? execId : harmless ? 'target' : 'nosuch')
      .replace('{name:.+}', pattern.endsWith('/push') ? '127.0.0.1:9/nosuch' : method === 'GET' ? IMAGE : 'nosuch');
  }

  /** A base query that keeps a route on this machine (no pull, no import from a URL) and short. */
  function baseQuery(route: string): Record<string, string> {
    if (route === 'POST /images/create') return { fromSrc: '-' };
    if (route === 'GET /events') return { until: '1' };
    return {};
  }

  async function send(route: string, what: string, query: Record<string, string>, body?: string | Buffer, contentType?: string): Promise<Answer> {
    const [method] = route.split(' ') as [string, string];
    const qs = new URLSearchParams({ ...baseQuery(route), ...query }).toString();
    const a = await request(d.socket, method, `/v1.50${pathOf(route)}${qs ? `?${qs}` : ''}`, body, contentType);
    sent++;
    (tally[route] ??= {})[a.status] = (tally[route]![a.status] ?? 0) + 1;
    // swarm and plugins answer 501/503 on purpose, exactly as a dockerd without them (routes/absent.ts)
    const absent = /^\w+ \/(swarm|services|nodes|tasks|secrets|configs|plugins)\b/.test(route) && (a.status === 501 || a.status === 503);
    if ((a.status >= 500 && !absent) || a.status === 0) failures.push(`${route} ${what}: ${a.status} ${a.body.slice(0, 300)}`);
    return a;
  }

  function expect400(route: string, what: string, a: Answer): void {
    if (a.status !== 400) failures.push(`${route} ${what}: expected 400, got ${a.status} ${a.body.slice(0, 200)}`);
  }

  /** A body that passes the schema, so each case differs from it in one field. */
  function baseBody(route: string): Record<string, unknown> {
    if (route === 'POST /containers/create') return { Image: IMAGE, Cmd: ['true'] };
    if (route === 'POST /containers/{id}/exec') return { Cmd: ['true'] };
    if (route === 'POST /exec/{id}/start') return { Detach: true };
    if (route === 'POST /auth') return { serveraddress: registry, username: 'u', password: 'p' };
    return {};
  }

  test('every route: malformed bodies and query values are never a 5xx', async (t) => {
    for (const [route, spec] of Object.entries(ROUTES) as Array<[string, RouteSpec]>) {
      // both ask a remote registry (Docker Hub for a bare name): that traffic would leave this machine
      if (route === 'GET /images/search' || route.startsWith('GET /distribution/')) continue;
      // query values of the wrong type: 400 before the handler acts
      for (const [param, kind] of Object.entries(spec.query ?? {})) {
        if (route === 'POST /images/create' && (param === 'fromImage' || param === 'fromSrc')) continue; // a pull or a fetch would leave this machine
        for (const v of badQueryValues(kind)) {
          const a = await send(route, `query ${param}=${JSON.stringify(v.slice(0, 20))}`, { [param]: v });
          if (kind !== 'string') expect400(route, `query ${param}=${v}`, a);
        }
      }
      // bodies nobody should parse, or that must be refused whole
      await send(route, 'garbage body', {}, '{"a":', 'application/json');
      await send(route, '5000-deep body', {}, DEEP);
      await send(route, '1 MB string body', {}, JSON.stringify(MB));
      if (spec.raw) await send(route, 'garbage tar', {}, Buffer.from('not a tar archive at all'.repeat(100)), 'application/x-tar');
      if (!spec.body) continue;

      const schema = BODIES[spec.body] as Schema;
      const base = baseBody(route);
      expect400(route, 'body of the wrong type', await send(route, 'array body', {}, '[1]'));
      expect400(route, 'deep body', await send(route, 'deep body', {}, DEEP));
      // each field with each value of a wrong type (nested fields: one wrong value each, rotating)
      let n = 0;
      for (const f of fields(schema)) {
        const wrong = wrongValues(f.schema);
        const pick = f.path.length === 1 ? wrong : [wrong[n++ % wrong.length]];
        for (const v of pick) {
          const what = `${f.path.join('.')}=${JSON.stringify(v)}`;
          expect400(route, what, await send(route, what, {}, JSON.stringify(setAt(base, f.path, v, schema))));
        }
      }
      // nulls: every top-level field null at once (what a client means by "unset"), and a deep value in each
      const props = Object.keys(schema.properties as Record<string, Schema>);
      const nulls = Object.fromEntries(props.map((k) => [k, null]));
      await send(route, 'all fields null', {}, JSON.stringify({ ...nulls, ...base }));
      await send(route, 'HostConfig fields null', {}, JSON.stringify({ ...base, HostConfig: Object.fromEntries(Object.keys(((schema.properties as Record<string, Schema>).HostConfig?.properties ?? {}) as object).map((k) => [k, null])) }));
      for (const k of props) expect400(route, `${k} 5000 deep`, await send(route, `${k} 5000 deep`, {}, JSON.stringify(base).replace(/^\{/, `{"${k}":${DEEP},`)));
      // 1 MB strings in every top-level string field
      for (const k of props) {
        if (!typesOf((schema.properties as Record<string, Schema>)[k]!).includes('string')) continue;
        if (route === 'POST /auth' && k === 'serveraddress') continue; // stays on loopback
        await send(route, `${k} = 1 MB string`, {}, JSON.stringify({ ...base, [k]: MB }));
      }
    }
    for (const [route, statuses] of Object.entries(tally)) t.diagnostic(`${route}: ${JSON.stringify(statuses)}`);
    assert.ok(sent > 500, `sent ${sent} requests`);
    assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed:\n${failures.slice(0, 40).join('\n')}\n${d.log().slice(-3000)}`);
  });

  test('hijacked routes (Upgrade: tcp): bad query values and bodies are HTTP errors before the 101', async () => {
    const upgrade = (p: string, body: string): Promise<number> => new Promise((resolve) => {
      const req = http.request({ socketPath: d.socket, method: 'POST', path: p, headers: { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } });
      req.on('upgrade', (_res, socket) => { socket.destroy(); resolve(101); });
      req.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', () => resolve(0));
      req.end(body);
    });
    const cases: Array<[string, string, number]> = [
      ['/v1.50/containers/target/attach?stream=maybe&stdout=1', '', 400],
      ['/v1.50/containers/target/attach?logs=2x', '', 400],
      ['/v1.50/containers/target/attach?stream=1&detachKeys=ctrl-', '', 400],
      [`/v1.50/exec/${execId}/start`, DEEP, 400],
      [`/v1.50/exec/${execId}/start`, '{"Detach":', 400],
      [`/v1.50/exec/${execId}/start`, '{"Detach":"yes"}', 400],
      [`/v1.50/exec/${execId}/start`, '{"Tty":[1]}', 400],
      [`/v1.50/exec/${execId}/start`, JSON.stringify({ Detach: false, ConsoleSize: MB }), 400],
      [`/v1.50/exec/${execId}/start`, `{"Detach":true,"x":"${'y'.repeat(2 << 20)}"}`, 400],
    ];
    for (const [p, body, want] of cases) assert.equal(await upgrade(p, body), want, `${p} ${body.slice(0, 40)}`);
  });

  test('the daemon is alive and docker ps -a, images and info still work', async () => {
    assert.doesNotThrow(() => process.kill(d.pid, 0), 'berthd is running');
    for (const args of [['ps', '-a'], ['images'], ['info']]) {
      const r = await docker(...args);
      assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}\n${d.log().slice(-2000)}`);
    }
    const ps = await docker('ps', '-a', '--format', '{{.Names}} {{.Status}}');
    assert.match(ps.stdout, /^target Up /m, 'the target container is untouched');
  });
});

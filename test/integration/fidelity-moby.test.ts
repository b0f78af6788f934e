// What moby 20.10's own API integration tests (shared/suites/moby-integration.sh) check and berthd answered
// otherwise: the Go decoder's words for a bad body and "got EOF" for a missing one, GET /networks/, the
// builder's version= (empty) query, 20.10's words for old clients (rm of a running container, ExecutionDriver
// in info), custom MaskedPaths/ReadonlyPaths, PidsLimit updates, `commit --change ENV` expanding $VAR, and
// an archive path with a trailing slash that names a file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH, isRoot, run } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const DOCKER = '/usr/local/bin/docker';
const missing = !isRoot ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : undefined;

function call(socket: string, method: string, p: string, body?: string | Buffer, type = 'application/json'): Promise<{ status: number; body: string; raw: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: p, headers: { 'Content-Type': type } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => { parts.push(c); });
      res.on('end', () => { const raw = Buffer.concat(parts); resolve({ status: res.statusCode!, body: raw.toString(), raw }); });
    });
    req.on('error', reject);
    req.end(body);
  });
}
const message = (r: { body: string }) => (JSON.parse(r.body) as { message: string }).message;

describe('what moby\'s integration tests check', { skip: missing }, () => {
  let d: Daemon;
  const docker = (args: string[], env: NodeJS.ProcessEnv = {}) => run(DOCKER, args, { env: { ...d.env, ...env } });
  const ok = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> => {
    const r = await docker(args, env);
    assert.equal(r.code, 0, `docker ${args.join(' ')} → ${r.code}: ${r.stderr}\n${d.log().slice(-2000)}`);
    return r.stdout.trim();
  };
  const inspect = async (ref: string) => JSON.parse(await ok(['inspect', ref]))[0] as { Config: { Env: string[] }; HostConfig: Record<string, unknown> };

  before(async () => {
    d = await startDaemon();
    const r = await run('sh', ['-c', `tar -C ${await busyboxRootfs()} -c . | ${process.execPath} ${BERTH} import -c 'ENV PATH=/bin' - busybox`], { env: d.env });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => { await d?.stop(); });

  test('a bad body is refused in the Go decoder\'s words, an empty one with "got EOF"', async () => {
    for (const ep of ['/exec/foobar/start', '/containers/foobar/exec', '/networks/create', '/volumes/create', '/networks/bridge/disconnect']) {
      const bad = await call(d.socket, 'POST', ep, '{invalid json');
      assert.equal(bad.status, 400, `${ep}: ${bad.body}`);
      assert.match(message(bad), /invalid character 'i' looking for beginning of object key string/, ep);
      const empty = await call(d.socket, 'POST', ep);
      assert.equal(empty.status, 400, `${ep}: ${empty.body}`);
      assert.match(message(empty), /got EOF while reading request body/, ep);
    }
    const trailing = await call(d.socket, 'POST', '/volumes/create', '{"Name": "x"} x');
    assert.match(message(trailing), /invalid character 'x' after top-level value/);
    assert.deepEqual(JSON.parse((await call(d.socket, 'GET', '/volumes')).body).Volumes, [], 'nothing was created');
  });

  test('GET /networks/ lists the networks like /networks', async () => {
    const r = await call(d.socket, 'GET', '/networks/');
    assert.equal(r.status, 200, r.body);
    assert.ok((JSON.parse(r.body) as Array<{ Name: string }>).some((n) => n.Name === 'bridge'));
  });

  test('a build with an empty version= (the Go client always sends it) uses the classic builder', async () => {
    const ctx = path.join(d.dir, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nCMD ["true"]\n');
    const r = await call(d.socket, 'POST', '/v1.41/build?version=&t=built', execFileSync('tar', ['-C', ctx, '-c', '.']), 'application/x-tar');
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /Successfully built/);
  });

  test('clients of API 1.41 and older get 20.10\'s words for rm of a running container; info before 1.25 has ExecutionDriver', async () => {
    const id = await ok(['run', '-d', '--network', 'none', 'busybox', 'sleep', '60']);
    const old = await docker(['rm', id], { DOCKER_API_VERSION: '1.41' });
    assert.notEqual(old.code, 0);
    assert.match(old.stderr, /You cannot remove a running container [0-9a-f]{64}\. Stop the container before attempting removal or force remove/);
    const cur = await docker(['rm', id]);
    assert.match(cur.stderr, /container is running: stop the container before removing or force remove/);
    await ok(['rm', '-f', id]);
    assert.equal(JSON.parse((await call(d.socket, 'GET', '/v1.20/info')).body).ExecutionDriver, '<not supported>');
    assert.equal(JSON.parse((await call(d.socket, 'GET', '/v1.41/info')).body).ExecutionDriver, undefined);
  });

  test('MaskedPaths and ReadonlyPaths given at create replace the defaults, in inspect and in the container', async () => {
    const create = async (name: string, hc: Record<string, unknown>) => {
      const r = await call(d.socket, 'POST', `/v1.41/containers/create?name=${name}`, JSON.stringify({ Image: 'busybox', Cmd: ['sh', '-c', 'wc -c < /proc/timer_list; grep -q " /proc/sys " /proc/mounts && echo ro || echo rw'], HostConfig: { NetworkMode: 'none', ...hc } }));
      assert.equal(r.status, 201, r.body);
    };
    await create('mp-none', { MaskedPaths: [], ReadonlyPaths: [] });
    await create('mp-default', {});
    await create('mp-some', { MaskedPaths: ['/proc/keys'], ReadonlyPaths: ['/proc/bus'] });
    assert.deepEqual((await inspect('mp-none')).HostConfig.MaskedPaths, []);
    assert.deepEqual((await inspect('mp-none')).HostConfig.ReadonlyPaths, []);
    assert.ok(((await inspect('mp-default')).HostConfig.MaskedPaths as string[]).includes('/proc/timer_list'));
    assert.deepEqual((await inspect('mp-some')).HostConfig.MaskedPaths, ['/proc/keys']);
    assert.deepEqual((await inspect('mp-some')).HostConfig.ReadonlyPaths, ['/proc/bus']);
    const out = async (n: string) => (await ok(['start', '-a', n])).split('\n');
    const [none, def] = [await out('mp-none'), await out('mp-default')];
    assert.notEqual(Number(none[0]), 0, '/proc/timer_list is readable when nothing is masked');
    assert.equal(none[1], 'rw', '/proc/sys is not remounted read-only when nothing is read-only');
    assert.equal(Number(def[0]), 0, '/proc/timer_list is masked by default');
    assert.equal(def[1], 'ro', '/proc/sys is read-only by default');
    await ok(['rm', 'mp-none', 'mp-default', 'mp-some']);
  });

  test('PidsLimit: an update to 0 or below is unlimited and shows 0; clients before 1.40 cannot change it', async () => {
    const id = await ok(['run', '-d', '--network', 'none', '--pids-limit', '32', 'busybox', 'sleep', '60']);
    const oldUpdate = await call(d.socket, 'POST', `/v1.39/containers/${id}/update`, JSON.stringify({ PidsLimit: 16 }));
    assert.equal(oldUpdate.status, 200, oldUpdate.body);
    assert.equal((await inspect(id)).HostConfig.PidsLimit, 32);
    await ok(['update', '--pids-limit', '-1', id]);
    assert.equal((await inspect(id)).HostConfig.PidsLimit, 0);
    await ok(['rm', '-f', id]);
  });

  test('commit --change "ENV PATH=/usr/bin:$PATH" expands $PATH from the container\'s config', async () => {
    await ok(['create', '--name', 'env1', '--network', 'none', 'busybox', 'true']);
    await ok(['commit', '--change', 'ENV PATH=/usr/bin:$PATH', '--change', 'LABEL where="$PATH"', 'env1', 'envimg']);
    const img = JSON.parse(await ok(['image', 'inspect', 'envimg']))[0] as { Config: { Env: string[]; Labels: Record<string, string> } };
    assert.deepEqual(img.Config.Env, ['PATH=/usr/bin:/bin']);
    assert.equal(img.Config.Labels.where, '/usr/bin:/bin');
    await ok(['rm', 'env1']);
    await ok(['rmi', 'envimg']);
  });

  test('a missing working directory is made in the container before it starts (0755); a file in its way is refused', async () => {
    const out = await ok(['run', '--rm', '--network', 'none', '-w', '/made/by/berth', 'busybox', 'sh', '-c', 'pwd; stat -c %a /made/by/berth']);
    assert.deepEqual(out.split('\n'), ['/made/by/berth', '755']);
    const bad = await docker(['run', '--rm', '--network', 'none', '-w', '/etc/passwd/x', 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Cannot mkdir: \/etc\/passwd\/x is not a directory/);
  });

  test('legacy links: the target must exist; inspect, ps Names and /etc/hosts show the link; a rename of the target keeps it', async () => {
    const none = await docker(['create', '--link', 'nosuch:db', 'busybox', 'true']);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /could not get container for nosuch/);
    const host = await docker(['create', '--network', 'host', '--link', 'nosuch', 'busybox', 'true']);
    assert.match(host.stderr, /conflicting options: host type networking can't be used with links/);
    const target = await ok(['run', '-d', '--name', 'lk-target', 'busybox', 'sleep', '60']);
    const ip = JSON.parse(await ok(['inspect', target]))[0].NetworkSettings.Networks.bridge.IPAddress as string;
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    await ok(['run', '-d', '--name', 'lk-user', '--link', 'lk-target:db', 'busybox', 'sleep', '60']);
    assert.deepEqual((await inspect('lk-user')).HostConfig.Links, ['/lk-target:/lk-user/db']);
    const hosts = await ok(['exec', 'lk-user', 'cat', '/etc/hosts']);
    assert.ok(hosts.split('\n').some((l) => l.split(/\s+/)[0] === ip && l.split(/\s+/).includes('db') && l.split(/\s+/).includes('lk-target')), hosts);
    const ps = JSON.parse((await call(d.socket, 'GET', `/v1.41/containers/json?filters=${encodeURIComponent(JSON.stringify({ name: ['lk-target'] }))}`)).body) as Array<{ Names: string[] }>;
    assert.equal(ps.length, 1);
    assert.deepEqual(ps[0]!.Names, ['/lk-target', '/lk-user/db']);
    await ok(['rename', 'lk-target', 'lk-renamed']);
    assert.deepEqual((await inspect('lk-user')).HostConfig.Links, ['/lk-renamed:/lk-user/db']);
    await ok(['rm', '-f', 'lk-user', 'lk-renamed']);
  });

  test('on a user network the container\'s own hostname resolves through the embedded DNS', async () => {
    await ok(['network', 'create', 'hn-net']);
    try {
      await ok(['run', '-d', '--network', 'hn-net', '--hostname', 'fbhost', '--name', 'hn1', 'busybox', 'sleep', '60']);
      const ip = JSON.parse(await ok(['inspect', 'hn1']))[0].NetworkSettings.Networks['hn-net'].IPAddress as string;
      // /etc/hosts emptied, as moby's TestHostnameDnsResolution does, so only DNS can answer
      const r = await docker(['exec', 'hn1', 'sh', '-c', 'echo 127.0.0.1 localhost > /etc/hosts && nslookup fbhost']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.ok(r.stdout.includes(ip), r.stdout);
    } finally {
      await docker(['rm', '-f', 'hn1']);
      await docker(['network', 'rm', 'hn-net']);
    }
  });

  test('docker cp of a file named with a trailing slash is "not a directory"', async () => {
    await ok(['create', '--name', 'cp1', '--network', 'none', 'busybox', 'true']);
    const r = await docker(['cp', 'cp1:/etc/passwd/', path.join(d.dir, 'out')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not a directory/);
    assert.ok(!fs.existsSync(path.join(d.dir, 'out')));
    await ok(['cp', 'cp1:/etc/', path.join(d.dir, 'etc-out')]);
    assert.ok(fs.existsSync(path.join(d.dir, 'etc-out', 'passwd')));
    await ok(['cp', 'cp1:/etc/.', path.join(d.dir, 'etc-dot')]);
    assert.ok(fs.existsSync(path.join(d.dir, 'etc-dot', 'passwd')));
    // moby names the entries of "/" as "/", "/etc/passwd" and those of "/etc/." as "./", "./passwd"
    const names = async (p: string) => {
      const r = await call(d.socket, 'GET', `/v1.41/containers/cp1/archive?path=${encodeURIComponent(p)}`);
      assert.equal(r.status, 200, r.body);
      fs.writeFileSync(path.join(d.dir, 'a.tar'), r.raw);
      return execFileSync('tar', ['-tPf', path.join(d.dir, 'a.tar')], { encoding: 'utf8' }).split('\n');
    };
    const root = await names('/');
    assert.equal(root[0], '/');
    assert.ok(root.includes('/etc/passwd'), root.slice(0, 5).join(' '));
    const dot = await names('/etc/.');
    assert.equal(dot[0], './');
    assert.ok(dot.includes('./passwd'), dot.join(' '));
    await ok(['rm', 'cp1']);
  });

  test('docker diff of a container that is exiting meanwhile shows its changes only (its root stays mounted for the diff)', async () => {
    // moby's TestDiff asks for the diff right after start, while `sh` runs and ends: a diff that came while the
    // run's end was under way walked a root already unmounted and reported /etc's files deleted
    const get = async (p: string) => { const r = await call(d.socket, 'GET', p); assert.equal(r.status, 200, r.body); return JSON.parse(r.body); };
    for (let round = 0; round < 3; round++) {
      const id = await ok(['run', '-d', '--network', 'none', 'busybox', 'sh', '-c', 'mkdir /foo; echo xyzzy > /foo/bar; sleep 600']);
      const changes = async () => (await get(`/containers/${id}/changes`) as Array<{ Path: string; Kind: number }>).map((c) => `${c.Kind}${c.Path}`).join(' ');
      while (await changes() !== '1/foo 1/foo/bar') await new Promise((r) => setTimeout(r, 20));
      const killed = call(d.socket, 'POST', `/containers/${id}/kill`);
      // diffs back to back from the kill until the container has been seen exited three times
      let seen = 0;
      let n = 0;
      while (seen < 3) {
        const [diff, info] = await Promise.all([changes(), get(`/containers/${id}/json`)]);
        assert.equal(diff, '1/foo 1/foo/bar', `round ${round}, diff ${n}`);
        n++;
        if ((info as { State: { Status: string } }).State.Status === 'exited') seen++;
      }
      assert.equal((await killed).status, 204);
      await ok(['rm', id]);
    }
  });
});

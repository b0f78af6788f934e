// What BuildKit users write and the classic builder refused, built by berthd through the real docker CLI
// (no BuildKit variable): heredocs, RUN --mount (cache, bind, tmpfs, secret), ADD of an http URL (from a
// server this test runs on 127.0.0.1) and ADD's extraction of local tars. Each built image is run.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { isRoot, run } from '../helpers/bundle.js';
import { berth, startDaemon, type Daemon } from '../helpers/daemon.js';
import { mountsUnder } from '../helpers/leaks.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const haveDocker = fs.existsSync('/usr/local/bin/docker');
const skip = !isRoot ? 'needs root' : !haveDocker ? 'needs the docker CLI at /usr/local/bin/docker' : false;

describe('BuildKit syntax on the classic builder', { skip }, () => {
  let d: Daemon;
  let n = 0;
  let server: http.Server;
  let base = '';
  const env = () => { const e = { ...d.env }; delete e.DOCKER_BUILDKIT; return e; };
  const docker = (args: string[], input?: string) => run('/usr/local/bin/docker', args, { env: env(), input });
  const ctx = (files: Record<string, string | Buffer>): string => {
    const dir = path.join(d.dir, `ctx${n++}`);
    for (const [name, body] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), body);
    }
    return dir;
  };
  const build = async (files: Record<string, string | Buffer>, args: string[] = []) => {
    const r = await docker(['build', ...args, ctx(files)]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    return r.stdout;
  };
  const sh = async (image: string, script: string) => {
    const r = await docker(['run', '--rm', image, 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const leftovers = async () => {
    assert.equal((await docker(['ps', '-aq'])).stdout.trim(), '', 'no container left');
    assert.deepEqual(mountsUnder(d.root), [], 'no mount left');
  };

  before(async () => {
    d = await startDaemon();
    const tarFile = path.join(d.dir, 'rootfs.tar');
    fs.writeFileSync(tarFile, await tarDir(await busyboxRootfs(), false));
    const imp = await docker(['import', '-c', 'CMD ["sh"]', tarFile, 'bb:bk']);
    assert.equal(imp.code, 0, imp.stderr);
    server = http.createServer((req, res) => {
      if (req.url === '/files/hello.txt') {
        res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' }).end('hello from the web\n');
      } else res.writeHead(404).end('nope');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => { server?.close(); await d?.stop(); });

  test('heredocs: RUN <<EOF as a script, with a shebang, inside a command; COPY <<EOF expands unless quoted', async () => {
    const out = await build({
      Dockerfile: [
        'FROM bb:bk',
        'ENV WHO=world',
        'RUN <<EOF',
        'set -e',
        'echo "script line 1" > /script.out',
        'echo "script line 2" >> /script.out',
        'EOF',
        'RUN <<SHEBANG',
        '#!/bin/sh',
        'echo "ran as $0" > /shebang.out',
        'SHEBANG',
        'RUN cat <<EOF > /inner.out',
        'inner $WHO',
        'EOF',
        'COPY <<EOF /etc/greeting',
        'hello $WHO',
        'EOF',
        'COPY <<"RAW" <<-TABS /docs/',
        'raw $WHO',
        'RAW',
        '\ttabbed',
        '\tTABS',
        'CMD ["cat", "/etc/greeting"]',
      ].join('\n') + '\n',
    }, ['-t', 'bk:heredoc']);
    assert.match(out, /Successfully tagged bk:heredoc/);
    const got = await sh('bk:heredoc', 'cat /script.out /shebang.out /inner.out /etc/greeting /docs/RAW /docs/TABS; stat -c %a /etc/greeting');
    assert.equal(got, 'script line 1\nscript line 2\nran as /dev/pipes/SHEBANG\ninner world\nhello world\nraw $WHO\ntabbed\n644\n');
    // the script file was mounted for the step only
    assert.equal(await sh('bk:heredoc', 'ls /dev/pipes 2>&1 || true'), 'ls: /dev/pipes: No such file or directory\n');
    await leftovers();
  });

  test('RUN --mount=type=cache persists between builds (by id); bind from the context and from a stage, tmpfs: none lands in the image', async () => {
    const files = {
      Dockerfile: [
        'FROM bb:bk AS tools',
        'RUN mkdir /out && echo from-stage > /out/tool',
        'FROM bb:bk',
        'WORKDIR /work',
        'RUN --mount=type=cache,target=/var/cache/app --mount=type=cache,id=other,target=/other echo run >> /var/cache/app/log && wc -l < /var/cache/app/log > /count && ls /other > /other.ls',
        'RUN --mount=type=bind,source=data,target=/data cat /data/x > /from-bind',
        'RUN --mount=type=bind,source=data,target=/data,rw echo scribble > /data/x && cat /data/x > /rw-bind',
        'RUN --mount=from=tools,source=/out,target=/in cp /in/tool /from-stage',
        'RUN --mount=type=tmpfs,target=/scratch echo t > /scratch/f && grep " /scratch tmpfs" /proc/mounts > /tmpfs.line',
        'RUN --mount=type=secret,id=absent cat /run/secrets/absent 2>/dev/null || echo no-secret > /secret.out',
      ].join('\n') + '\n',
      'data/x': 'context data\n',
    };
    await build(files, ['-t', 'bk:mounts']);
    assert.equal(await sh('bk:mounts', 'cat /count /from-bind /rw-bind /from-stage /secret.out; wc -l < /tmpfs.line; find /var/cache/app /data /in /scratch -mindepth 1 2>/dev/null | wc -l'),
      '1\ncontext data\nscribble\nfrom-stage\nno-secret\n1\n0\n');
    // a rebuild without the step cache runs the step again on the same cache directory
    await build(files, ['--no-cache', '-t', 'bk:mounts2']);
    assert.equal(await sh('bk:mounts2', 'cat /count'), '2\n');
    // the rw bind did not change the context; a changed bound file invalidates the step that binds it
    const again = await build({ ...files, 'data/x': 'changed\n' }, ['-t', 'bk:mounts3']);
    assert.match(again, /RUN --mount=type=bind,source=data,target=\/data cat \/data\/x > \/from-bind\n ---> Running in/);
    assert.equal(await sh('bk:mounts3', 'cat /from-bind'), 'changed\n');
    await leftovers();
  });

  test('RUN --mount: bad values and a required secret fail the build with a clear error and leave nothing', async () => {
    const bad = await docker(['build', '-t', 'bk:bad', ctx({ Dockerfile: 'FROM bb:bk\nRUN --mount=type=cache true\n' })]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr + bad.stdout, /failed to parse --mount: mount target must be specified/);
    const secret = await docker(['build', '-t', 'bk:bad', ctx({ Dockerfile: 'FROM bb:bk\nRUN --mount=type=secret,id=tok,required true\n' })]);
    assert.notEqual(secret.code, 0);
    assert.match(secret.stderr + secret.stdout, /secret tok not found/);
    const missing = await docker(['build', '-t', 'bk:bad', ctx({ Dockerfile: 'FROM bb:bk\nRUN --mount=source=nothing,target=/n true\n' })]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr + missing.stdout, /RUN failed: file not found in build context or excluded by \.dockerignore: stat nothing/);
    assert.equal((await docker(['images', '-q', 'bk:bad'])).stdout.trim(), '');
    await leftovers();
  });

  test('ADD of an http URL: content, mode 0600, Last-Modified time, --checksum; a 404 names the status', async () => {
    const sum = `sha256:${createHash('sha256').update('hello from the web\n').digest('hex')}`;
    await build({ Dockerfile: `FROM bb:bk\nADD ${base}/files/hello.txt /web/\nADD --checksum=${sum} ${base}/files/hello.txt /named.txt\n` }, ['-t', 'bk:url']);
    assert.equal(await sh('bk:url', 'cat /web/hello.txt /named.txt; stat -c "%a %Y" /web/hello.txt'), `hello from the web\nhello from the web\n600 ${Date.parse('2015-10-21T07:28:00Z') / 1000}\n`);
    const notFound = await docker(['build', '-t', 'bk:bad', ctx({ Dockerfile: `FROM bb:bk\nADD ${base}/missing /x\n` })]);
    assert.notEqual(notFound.code, 0);
    assert.match(notFound.stderr + notFound.stdout, /failed to GET http:\/\/127\.0\.0\.1:\d+\/missing with status 404/);
    const badSum = await docker(['build', '-t', 'bk:bad', ctx({ Dockerfile: `FROM bb:bk\nADD --checksum=sha256:${'0'.repeat(64)} ${base}/files/hello.txt /x\n` })]);
    assert.notEqual(badSum.code, 0);
    assert.match(badSum.stderr + badSum.stdout, /digest mismatch/);
    await leftovers();
  });

  test('ADD of a local tar or tar.gz extracts it; COPY of the same file does not', async () => {
    const src = path.join(d.dir, 'tarsrc');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(src, 'sub', 'inside.txt'), 'from the tar\n');
    const tarOf = async (name: string, flags: string) => {
      const f = path.join(d.dir, name);
      const r = await run('tar', ['-C', src, flags, f, 'sub']);
      assert.equal(r.code, 0, r.stderr);
      return fs.readFileSync(f);
    };
    const tarBuf = await tarOf('a.tar', '-cf');
    const gzBuf = await tarOf('a.tgz', '-czf');
    await build({ Dockerfile: 'FROM bb:bk\nADD a.tar /plain/\nADD a.tgz /gz\nCOPY a.tar /copied/\n', 'a.tar': tarBuf, 'a.tgz': gzBuf }, ['-t', 'bk:tar']);
    assert.equal(await sh('bk:tar', 'cat /plain/sub/inside.txt /gz/sub/inside.txt; ls /copied'), 'from the tar\nfrom the tar\na.tar\n');
    await leftovers();
  });

  test('intermediate images are hidden from `docker images` unless -a; `docker builder prune` drops the step cache and cache mounts; system df counts them', async () => {
    const files = {
      Dockerfile: 'FROM bb:bk\nRUN --mount=type=cache,id=prune-test,target=/c ls /c > /seen && head -c 4096 /dev/zero > /c/blob\nENV X=1\nRUN echo done > /done\n',
    };
    const out = await build(files, ['-t', 'bk:prune']);
    const steps = [...out.matchAll(/ ---> ([0-9a-f]{12})\n/g)].map((m) => m[1]!);
    const final = out.match(/Successfully built ([0-9a-f]{12})/)![1]!;
    const intermediates = steps.slice(1, -1).filter((id) => id !== final);
    assert.ok(intermediates.length >= 2, out);
    const shown = (await docker(['images', '-q', '--no-trunc'])).stdout;
    const all = (await docker(['images', '-a', '-q', '--no-trunc'])).stdout;
    for (const id of intermediates) {
      assert.doesNotMatch(shown, new RegExp(`sha256:${id}`), 'an intermediate image is not listed');
      assert.match(all, new RegExp(`sha256:${id}`), 'images -a lists it');
    }
    assert.match(shown, new RegExp(`sha256:${final}`));
    const parent = await docker(['image', 'inspect', '-f', '{{.Parent}}', final]);
    assert.match(parent.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const df = await docker(['system', 'df']);
    assert.equal(df.code, 0, df.stderr);
    const row = /Build Cache\s+(\d+)\s+\d+\s+(\S+)/.exec(df.stdout);
    assert.ok(row && Number(row[1]) >= 3, df.stdout);
    const prune = await docker(['builder', 'prune', '-f']);
    assert.equal(prune.code, 0, prune.stderr);
    assert.match(prune.stdout, /Deleted build cache objects:\n/);
    assert.match(prune.stdout, /Total reclaimed space: [1-9][0-9.]*kB\n/, "at least the 4 kB blob of the cache mount");
    assert.match((await docker(['system', 'df'])).stdout, /Build Cache\s+0\s/);
    // nothing is reused after the prune, and the cache mount starts empty again
    const again = await build(files, ['-t', 'bk:prune']);
    assert.doesNotMatch(again, /Using cache/);
    assert.equal(await sh('bk:prune', 'cat /seen'), '');
    await leftovers();
  });

  test('--cache-from: steps are taken from a given image\'s history when the local cache has nothing (docker CLI and berth build)', async () => {
    const files = { Dockerfile: 'FROM bb:bk\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\nENV Y=2\nCMD ["cat", "/b.txt"]\n', 'a.txt': 'cached content\n' };
    await build(files, ['-t', 'bk:source']);
    const dropped = await docker(['builder', 'prune', '-f']);
    assert.equal(dropped.code, 0, dropped.stderr);
    const without = await build(files, ['-t', 'bk:nocf']);
    assert.doesNotMatch(without, /Using cache/, 'the prune left no local cache');
    await docker(['builder', 'prune', '-f']);
    const withCf = await build(files, ['--cache-from', 'bk:source', '-t', 'bk:cf']);
    assert.equal(withCf.match(/ ---> Using cache\n/g)?.length, 4, withCf);
    const layers = async (img: string) => (await docker(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', img])).stdout;
    assert.equal(await layers('bk:cf'), await layers('bk:source'));
    assert.equal((await docker(['run', '--rm', 'bk:cf'])).stdout, 'cached content\n');
    // a changed file stops the reuse from that step on
    await docker(['builder', 'prune', '-f']);
    const changed = await build({ ...files, 'a.txt': 'other\n' }, ['--cache-from', 'bk:source']);
    assert.equal(changed.match(/ ---> Using cache\n/g), null, changed);
    const cli = await berth(['builder', 'prune', '-f'], env());
    assert.equal(cli.code, 0, cli.stderr);
    const viaBerth = await berth(['build', '--cache-from', 'bk:source', ctx(files)], env());
    assert.equal(viaBerth.code, 0, viaBerth.stderr);
    assert.equal(viaBerth.stdout.match(/Using cache/g)?.length, 4, viaBerth.stdout);
    await leftovers();
  });
});

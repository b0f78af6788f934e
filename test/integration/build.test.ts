// Dockerfile builds (POST /build, the classic builder's protocol) through the real docker CLI without
// DOCKER_BUILDKIT, docker-py's images.build and `berth build`; the built images are run to check them.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, run } from '../helpers/bundle.js';
import { berth, scratchDir, startDaemon, type Daemon } from '../helpers/daemon.js';
import { mountsUnder } from '../helpers/leaks.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';
import * as http from 'node:http';
import { TarWriter } from '../../src/snapshots/tar-writer.js';

/** POST /build with a raw body over the socket: status and the JSON lines. */
function postBuild(socket: string, body: Buffer, query = ''): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method: 'POST', path: `/v1.41/build${query}`, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function tarOf(entries: Array<{ name: string; type?: 'file' | 'symlink' | 'dir'; body?: string; linkname?: string }>): Promise<Buffer> {
  const parts: Buffer[] = [];
  const w = new TarWriter((c) => { parts.push(Buffer.from(c)); });
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    await w.entry({ name: e.name, type: e.type ?? 'file', mode: 0o644, size: e.type && e.type !== 'file' ? 0 : body.length, linkname: e.linkname ?? '' }, e.type && e.type !== 'file' ? undefined : body);
  }
  await w.finish();
  return Buffer.concat(parts);
}

const haveDocker = fs.existsSync('/usr/local/bin/docker');
const skip = !isRoot ? 'needs root' : !haveDocker ? 'needs the docker CLI at /usr/local/bin/docker' : false;

describe('builds against berthd', { skip }, () => {
  let d: Daemon;
  let n = 0;
  const env = () => { const e = { ...d.env }; delete e.DOCKER_BUILDKIT; return e; };
  const docker = (args: string[], input?: string) => run('/usr/local/bin/docker', args, { env: env(), input });
  /** a context directory with these files */
  const ctx = (files: Record<string, string>): string => {
    const dir = path.join(d.dir, `ctx${n++}`);
    for (const [name, body] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), body);
    }
    return dir;
  };
  const runImage = async (image: string, args: string[] = []) => {
    const r = await docker(['run', '--rm', image, ...args]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const leftovers = async () => {
    const ps = await docker(['ps', '-aq']);
    assert.equal(ps.stdout.trim(), '', 'no container left');
    assert.deepEqual(mountsUnder(d.root), [], 'no mount left');
  };

  before(async () => {
    d = await startDaemon();
    const tarFile = path.join(d.dir, 'rootfs.tar');
    fs.writeFileSync(tarFile, await tarDir(await busyboxRootfs(), false));
    const imp = await docker(['import', '-c', 'CMD ["sh"]', tarFile, 'bb:build']);
    assert.equal(imp.code, 0, imp.stderr);
  });
  after(async () => { await d?.stop(); });

  test('docker build (no BuildKit variable): step lines, RUN output, tags, USER/WORKDIR/ENV/ENTRYPOINT+CMD in the result', async () => {
    const dir = ctx({
      Dockerfile: [
        'FROM bb:build',
        'ENV GREETING="hello world" \\',
        '    WHO=${USER:-nobody}',
        'WORKDIR /app',
        'COPY hello.txt ./',
        'RUN echo built-by-run; echo app:x:1234:1234::/app:/bin/sh >> /etc/passwd',
        'USER app',
        'ENTRYPOINT ["/bin/sh", "-c", "echo $GREETING $WHO $(id -u) $(pwd) $(cat hello.txt) \\"$@\\"", "--"]',
        'CMD ["from-cmd"]',
      ].join('\n'),
      'hello.txt': 'hi-file\n',
    });
    const r = await docker(['build', '-t', 'built:one', '-t', 'built:two', dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Step 1\/8 : FROM bb:build\n ---> [0-9a-f]{12}\n/);
    assert.match(r.stdout, /Step 5\/8 : RUN echo built-by-run; echo app:x:1234:1234::\/app:\/bin\/sh >> \/etc\/passwd\n ---> Running in [0-9a-f]{12}\nbuilt-by-run\n/);
    assert.match(r.stdout, /Removing intermediate container [0-9a-f]{12}\n/);
    assert.match(r.stdout, /Successfully built ([0-9a-f]{12})\nSuccessfully tagged built:one\nSuccessfully tagged built:two\n/);
    assert.equal(await runImage('built:one'), 'hello world nobody 1234 /app hi-file from-cmd\n');
    assert.equal(await runImage('built:two', ['other']), 'hello world nobody 1234 /app hi-file other\n');
    const hist = await docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}', 'built:one']);
    assert.match(hist.stdout, /\/bin\/sh -c #\(nop\) {2}CMD \["from-cmd"\]\|0B/);
    assert.match(hist.stdout, /\/bin\/sh -c echo built-by-run; echo app:x:1234/);
    await leftovers();
  });

  test('multi-stage with --target and COPY --from; the stage the target does not need is not built', async () => {
    const dir = ctx({
      Dockerfile: [
        'FROM bb:build AS base',
        'RUN echo base > /base.txt',
        'FROM bb:build AS unused',
        'RUN echo must-not-run; exit 3',
        'FROM bb:build AS final',
        'COPY --from=base /base.txt /copied.txt',
        'CMD ["cat", "/copied.txt"]',
        'FROM final AS after',
        'RUN false',
      ].join('\n'),
    });
    const r = await docker(['build', '--target', 'final', '-t', 'built:target', dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.doesNotMatch(r.stdout, /must-not-run/);
    assert.equal(await runImage('built:target'), 'base\n');
    await leftovers();
  });

  test('without --target every stage is built, in order, each with its aux ID; ONBUILD triggers run in every child stage', async () => {
    const df = [
      'FROM bb:build AS stage1',
      "ONBUILD RUN echo 'foo' >somefile",
      'ONBUILD ENV bar=baz',
      'FROM stage1',
      'RUN cat somefile',
      'FROM bb:build AS unused',
      'RUN echo unused-ran',
      'FROM stage1',
      'RUN cat somefile',
    ].join('\n');
    const r = await postBuild(d.socket, await tarOf([{ name: 'Dockerfile', body: df }]), '?rm=1&forcerm=1');
    assert.equal(r.status, 200, r.text);
    const lines = r.text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { stream?: string; aux?: { ID: string }; error?: string });
    assert.equal(lines.find((l) => l.error)?.error, undefined);
    const out = lines.map((l) => l.stream ?? '').join('');
    assert.match(out, /Step 1\/9 : FROM bb:build AS stage1\n/);
    assert.match(out, /unused-ran\n/, 'a stage nothing needs is still built (the classic builder builds them all)');
    assert.equal(out.match(/# Executing 2 build triggers\n/g)?.length, 2, out);
    assert.match(out, /Successfully built [0-9a-f]{12}\n/);
    const ids = lines.flatMap((l) => (l.aux ? [l.aux.ID] : []));
    assert.equal(ids.length, 4, `one aux ID per stage: ${ids.join(' ')}`);
    const env = JSON.parse((await docker(['image', 'inspect', '--format', '{{json .Config.Env}}', ids[3]!])).stdout) as string[];
    assert.ok(env.includes('bar=baz'), env.join(' '));
    const first = JSON.parse((await docker(['image', 'inspect', '--format', '{{json .Config.Env}}', ids[0]!])).stdout) as string[] | null;
    assert.ok(!(first ?? []).includes('bar=baz'), 'the triggers do not run in the stage that declares them');
    assert.equal(await runImage(ids[3]!, ['cat', 'somefile']), 'foo\n');
    await leftovers();
  });

  test('build args reach RUN but not the final image env', async () => {
    const dir = ctx({ Dockerfile: 'FROM bb:build\nARG SECRET=default\nRUN echo "secret=$SECRET" > /seen\nCMD ["sh", "-c", "cat /seen; echo env=$SECRET"]\n' });
    const r = await docker(['build', '--build-arg', 'SECRET=given', '-t', 'built:args', dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(await runImage('built:args'), 'secret=given\nenv=\n');
    const inspect = await docker(['image', 'inspect', '--format', '{{json .Config.Env}}', 'built:args']);
    assert.doesNotMatch(inspect.stdout, /SECRET/);
  });

  test('a RUN that deletes a file of the parent layer: the whiteout holds when the image runs', async () => {
    const dir = ctx({ Dockerfile: 'FROM bb:build\nRUN mkdir -p /data/sub && echo x > /data/sub/f && echo y > /keep\nRUN rm /keep && rm -rf /data && mkdir /data && echo new > /data/n\nCMD ["sh", "-c", "ls /keep 2>&1; ls /data"]\n' });
    const r = await docker(['build', '-t', 'built:wh', dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(await runImage('built:wh'), 'ls: /keep: No such file or directory\nn\n');
  });

  test('HEALTHCHECK, EXPOSE, LABEL, VOLUME, STOPSIGNAL and ONBUILD land in the image config', async () => {
    const dir = ctx({ Dockerfile: 'FROM bb:build\nHEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost || exit 1\nEXPOSE 80 53/udp\nLABEL a=b "c d"="e f"\nVOLUME /vol\nSTOPSIGNAL SIGUSR1\nONBUILD RUN echo triggered\n' });
    const r = await docker(['build', '--label', 'from=cli', '-t', 'built:cfg', dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const c = JSON.parse((await docker(['image', 'inspect', '--format', '{{json .Config}}', 'built:cfg'])).stdout) as Record<string, unknown>;
    assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost || exit 1'], Interval: 5e9, Retries: 2 });
    assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
    assert.deepEqual(c.Labels, { a: 'b', 'c d': 'e f', from: 'cli' });
    assert.deepEqual(c.Volumes, { '/vol': {} });
    assert.equal(c.StopSignal, 'SIGUSR1');
    assert.deepEqual(c.OnBuild, ['RUN echo triggered']);
    const child = ctx({ Dockerfile: 'FROM built:cfg\n' });
    const r2 = await docker(['build', child]);
    assert.equal(r2.code, 0, r2.stderr + r2.stdout);
    assert.match(r2.stdout, /# Executing 1 build trigger\n[\s\S]*triggered\n/);
  });

  test('.dockerignore exclusions and exceptions', async () => {
    const dir = ctx({
      Dockerfile: 'FROM bb:build\nCOPY . /ctx/\nCMD ["sh", "-c", "cd /ctx && find . -type f | sort"]\n',
      '.dockerignore': '**/*.log\nsecret\n!keep.log\ndocs\n!docs/README.md\n',
      'a.log': '', 'keep.log': '', 'sub/b.log': '', secret: '', 'docs/x.md': '', 'docs/README.md': '', 'main.c': '',
    });
    const r = await docker(['build', '-t', 'built:ign', dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(await runImage('built:ign'), './.dockerignore\n./Dockerfile\n./docs/README.md\n./keep.log\n./main.c\n');
  });

  test('a second identical build is fully cached; changing one copied file invalidates from that COPY on', async () => {
    const dir = ctx({
      Dockerfile: 'FROM bb:build\nCOPY a.txt /a.txt\nRUN cat /a.txt > /a.copy\nCOPY b.txt /b.txt\nRUN cat /a.copy /b.txt\n',
      'a.txt': 'A1\n', 'b.txt': 'B1\n',
    });
    const first = await docker(['build', '-t', 'built:cache', dir]);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.doesNotMatch(first.stdout, /Using cache/);
    // a new mtime, same content: still cached (checksums, not times)
    fs.utimesSync(path.join(dir, 'a.txt'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const second = await docker(['build', '-t', 'built:cache', dir]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.match(/ ---> Using cache\n/g)?.length, 4, second.stdout);
    assert.equal(second.stdout.match(/Successfully built (\w+)/)![1], first.stdout.match(/Successfully built (\w+)/)![1]);
    fs.writeFileSync(path.join(dir, 'b.txt'), 'B2\n');
    const third = await docker(['build', '-t', 'built:cache', dir]);
    assert.equal(third.code, 0, third.stderr);
    assert.equal(third.stdout.match(/ ---> Using cache\n/g)?.length, 2, third.stdout);
    assert.match(third.stdout, /Step 4\/5 : COPY b.txt \/b.txt\n ---> [0-9a-f]{12}\n/);
    assert.match(third.stdout, /A1\nB2\n/);
    const nocache = await docker(['build', '--no-cache', dir]);
    assert.equal(nocache.code, 0, nocache.stderr);
    assert.doesNotMatch(nocache.stdout, /Using cache/);
  });

  test('the cache survives a daemon restart', async () => {
    const dir = ctx({ Dockerfile: 'FROM bb:build\nRUN echo once > /f\n' });
    const first = await docker(['build', dir]);
    assert.equal(first.code, 0, first.stderr);
    await d.crashAndRestart();
    const again = await docker(['build', dir]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Step 2\/2 : RUN echo once > \/f\n ---> Using cache\n/);
  });

  test('docker-py images.build: tag, buildargs, the aux ID and the step lines', async () => {
    const dir = ctx({ Dockerfile: 'FROM bb:build\nARG WHO\nRUN echo "hello $WHO" > /greeting\nCMD ["cat", "/greeting"]\n' });
    const py = [
      'import docker, sys',
      'c = docker.DockerClient(base_url=sys.argv[1], version="1.41")',
      'img, logs = c.images.build(path=sys.argv[2], tag="built:py", buildargs={"WHO": "py"}, rm=True)',
      'print(img.id)',
      'print("".join(l.get("stream", "") for l in logs))',
    ].join('\n');
    const r = await run('/usr/bin/python3', ['-c', py, d.host, dir], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n/);
    assert.match(r.stdout, /Step 3\/4 : RUN echo "hello \$WHO" > \/greeting/);
    assert.equal(await runImage('built:py'), 'hello py\n');
  });

  test('berth build: -t, -f, --build-arg, --target, -q, --iidfile, --label, a tar and - as context', async () => {
    const dir = ctx({
      'build/Custom.df': 'FROM bb:build AS one\nARG V=dflt\nRUN echo "v=$V" > /v\nFROM one AS two\nRUN echo never-built-with-target-one\n',
      'ignored.txt': 'x',
    });
    const iid = path.join(d.dir, 'iid');
    const r = await berth(['build', '-t', 'built:berth', '-f', path.join(dir, 'build/Custom.df'), '--build-arg', 'V=given', '--target', 'one', '--iidfile', iid, '--label', 'k=v', dir], env());
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Step 1\/4 : FROM bb:build AS one\n/);
    assert.doesNotMatch(r.stdout, /never-built/);
    assert.match(fs.readFileSync(iid, 'utf8'), /^sha256:[0-9a-f]{64}$/);
    assert.equal(await runImage('built:berth', ['cat', '/v']), 'v=given\n');
    const label = await docker(['image', 'inspect', '--format', '{{index .Config.Labels "k"}}', 'built:berth']);
    assert.equal(label.stdout.trim(), 'v');
    const q = await berth(['build', '-q', '-t', 'built:quiet', '-f', path.join(dir, 'build/Custom.df'), '--target', 'one', dir], env());
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, /^sha256:[0-9a-f]{64}\n$/, 'quiet prints only the ID');
    const tarFile = path.join(d.dir, 'ctx.tar');
    fs.writeFileSync(tarFile, await tarOf([{ name: 'Dockerfile', body: 'FROM bb:build\nCOPY f /f\nCMD ["cat", "/f"]\n' }, { name: 'f', body: 'from-tar\n' }]));
    const t = await berth(['build', '-t', 'built:tar', tarFile], env());
    assert.equal(t.code, 0, t.stderr + t.stdout);
    assert.equal(await runImage('built:tar'), 'from-tar\n');
    const stdin = await berth(['build', '-t', 'built:stdin', '-'], env(), Buffer.from('FROM bb:build\nCMD ["echo", "from-stdin"]\n'));
    assert.equal(stdin.code, 0, stdin.stderr + stdin.stdout);
    assert.equal(await runImage('built:stdin'), 'from-stdin\n');
    const bad = await berth(['build', '-t', 'bad:berth', '-'], env(), Buffer.from('FROM bb:build\nRUN exit 4\n'));
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /The command '\/bin\/sh -c exit 4' returned a non-zero code: 4/);
    await leftovers();
  });

  test('unclean context tar names (`../`, absolute) land inside the context at their cleaned path; a symlink way out is refused', async () => {
    const outside = path.join(d.dir, 'outside');
    fs.mkdirSync(outside);
    const name = `escaped-${process.pid}`;
    const df = { name: 'Dockerfile', body: `FROM bb:build\nCOPY ${name} /${name}\nCOPY bar /bar\nCMD ["cat", "/${name}", "/bar"]\n` };
    const body = (v: string) => tarOf([df, { name: `../../../../${name}`, body: `climbed-${v}\n` }, { name: '/bar', body: `abs-${v}\n` }]);
    const first = await postBuild(d.socket, await body('0'), '?t=built:unclean');
    assert.equal(first.status, 200, first.text);
    assert.doesNotMatch(first.text, /errorDetail/, first.text);
    assert.equal(await runImage('built:unclean'), 'climbed-0\nabs-0\n');
    // the context is unpacked in <root>/tmp/<daemon>/build-*: nothing reached any directory above it
    for (let k = 1; k <= 5; k++) assert.equal(fs.existsSync(path.resolve(scratchDir(d), 'build-x', '../'.repeat(k), name)), false, `nothing at ../ x${k}`);
    // new content under the same unclean names: no cache hit (moby TestBuildUncleanTarFilenames)
    const second = await postBuild(d.socket, await body('1'), '?t=built:unclean');
    assert.equal(second.status, 200, second.text);
    assert.doesNotMatch(second.text, /Using cache/);
    assert.equal(await runImage('built:unclean'), 'climbed-1\nabs-1\n');
    const viaLink = await postBuild(d.socket, await tarOf([
      { name: 'Dockerfile', body: 'FROM bb:build\n' }, { name: 'link', type: 'symlink', linkname: outside }, { name: 'link/escaped', body: 'x' },
    ]));
    assert.equal(viaLink.status, 400, viaLink.text);
    assert.match(viaLink.text, /leaves the context/);
    assert.deepEqual(fs.readdirSync(outside), []);
    const left = fs.readdirSync(scratchDir(d)).filter((f) => f.startsWith('build-'));
    assert.deepEqual(left, [], `no context directory left: ${left.map((f) => fs.readdirSync(path.join(scratchDir(d), f)).join(',')).join(' | ')}`);
    await leftovers();
  });

  test('bad input: clear errors, nothing left behind', async () => {
    const images = async () => (await docker(['images', '-q', '--filter', 'reference=bad*'])).stdout.trim();
    // a context tar from stdin: the CLI cannot look for the Dockerfile itself, so the daemon must
    const missing = await run('sh', ['-c', 'tar -C "$1" -cf - . | /usr/local/bin/docker build -t bad:1 -', 'sh', ctx({ 'other.txt': 'x' })], { env: env() });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Cannot locate specified Dockerfile: Dockerfile/);
    const unknown = await docker(['build', '-t', 'bad:2', ctx({ Dockerfile: 'FROM bb:build\nFROBNICATE x\n' })]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr + unknown.stdout, /dockerfile parse error line 2: unknown instruction: FROBNICATE/);
    const badFrom = await docker(['build', '-t', 'bad:3', ctx({ Dockerfile: 'FROM 127.0.0.1:1/nothing-here\n' })]);
    assert.notEqual(badFrom.code, 0);
    const outside = await docker(['build', '-t', 'bad:4', ctx({ Dockerfile: 'FROM bb:build\nCOPY ../x /x\n' })]);
    assert.notEqual(outside.code, 0);
    assert.match(outside.stderr + outside.stdout, /forbidden path outside the build context: \.\.\/x|file not found in build context/);
    const excluded = await docker(['build', '-t', 'bad:5', ctx({ Dockerfile: 'FROM bb:build\nCOPY secret /x\n', secret: 's', '.dockerignore': 'secret\n' })]);
    assert.notEqual(excluded.code, 0);
    assert.match(excluded.stderr + excluded.stdout, /file not found in build context or excluded by \.dockerignore/);
    const failing = await docker(['build', '-t', 'bad:6', ctx({ Dockerfile: 'FROM bb:build\nRUN echo about-to-fail; exit 7\n' })]);
    assert.notEqual(failing.code, 0);
    assert.match(failing.stderr + failing.stdout, /The command '\/bin\/sh -c echo about-to-fail; exit 7' returned a non-zero code: 7/);
    assert.equal(await images(), '');
    await leftovers();
  });
});

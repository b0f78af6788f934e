// Issue 11: a `RUN apt-get install` step in a Debian image (made with debootstrap) reaches the Debian
// archive through the default bridge's NAT. The one test allowed to reach the archive: it is skipped,
// saying why, where deb.debian.org does not answer. Built through the real docker CLI (classic builder).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, run } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { DEBIAN_MIRROR, debianRootfsTar } from '../helpers/rootfs.js';

/** Whether the archive answers (HEAD of bookworm's Release, 10 s): the reason to skip, or undefined. */
function archiveUnreachable(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.request(`${DEBIAN_MIRROR}/dists/bookworm/Release`, { method: 'HEAD', timeout: 10_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? undefined : `the Debian archive answered ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 10 s')));
    req.on('error', (e) => resolve(`the Debian archive is not reachable (${e.message})`));
    req.end();
  });
}

const haveDocker = fs.existsSync('/usr/local/bin/docker');
const unreachable = isRoot && haveDocker ? await archiveUnreachable() : undefined;
const skip = !isRoot ? 'needs root' : !haveDocker ? 'needs the docker CLI at /usr/local/bin/docker'
  : unreachable ? `skipped: ${unreachable}; this test installs a package from ${DEBIAN_MIRROR}` : false;

describe('a build step reaches the Debian archive through the bridge', { skip }, () => {
  let d: Daemon;
  const docker = (args: string[], input?: string) => {
    const env = { ...d.env };
    delete env.DOCKER_BUILDKIT;
    return run('/usr/local/bin/docker', args, { env, input });
  };

  before(async () => {
    const tar = await debianRootfsTar();
    d = await startDaemon();
    const r = await docker(['import', '-c', 'CMD ["bash"]', tar, 'debian:bookworm-test']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => { await d?.stop(); });

  test('RUN apt-get install hello, then the image runs it', { timeout: 600_000 }, async () => {
    const ctx = path.join(d.dir, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), [
      'FROM debian:bookworm-test',
      'RUN apt-get update && apt-get install -y --no-install-recommends hello && rm -rf /var/lib/apt/lists/*',
      'CMD ["hello"]',
      '',
    ].join('\n'));
    const b = await docker(['build', '-t', 'hello:apt', ctx]);
    assert.equal(b.code, 0, `${b.stdout}\n${b.stderr}`);
    assert.match(b.stdout, /Setting up hello/);
    const r = await docker(['run', '--rm', 'hello:apt']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'Hello, world!');
  });
});

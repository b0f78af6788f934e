// 200 `docker exec`s at once on one container through berthd (issue 13, "Many at once"): every one
// exits 0 with its own output on the right stream, and none is left behind in berthd or on the host.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, run } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const haveDocker = fs.existsSync('/usr/local/bin/docker') || fs.existsSync('/usr/bin/docker');
const skip = !isRoot ? 'needs root' : !haveDocker ? 'needs the docker CLI' : false;
const N = 200;

describe('200 concurrent docker execs on one container', { skip }, () => {
  let d: Daemon;
  const docker = (args: string[]) => run('docker', args, { env: d.env });

  before(async () => {
    d = await startDaemon();
    const tarFile = path.join(d.dir, 'rootfs.tar');
    fs.writeFileSync(tarFile, await tarDir(await busyboxRootfs(), false));
    const imp = await docker(['import', '-c', 'CMD ["sh"]', tarFile, 'bb:many']);
    assert.equal(imp.code, 0, imp.stderr);
    const r = await docker(['run', '-d', '--network', 'none', '--name', 'many', 'bb:many', 'sleep', '100000']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => { await d?.stop(); });

  test('every exec runs, with its own output and exit code', { timeout: 1_200_000 }, async () => {
    const results = await Promise.all(Array.from({ length: N }, (_, i) =>
      docker(['exec', 'many', 'sh', '-c', `echo out${i}; echo err${i} >&2; exit ${i % 7}`])));
    const wrong = results.flatMap((r, i) =>
      r.code === i % 7 && r.stdout === `out${i}\n` && r.stderr === `err${i}\n` ? [] : [`#${i}: exit ${r.code}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`]);
    assert.deepEqual(wrong, [], `${wrong.length} of ${N} execs went wrong; berthd log tail:\n${d.log().slice(-3000)}`);
    // the container is still there and still running, with only its own process left in it
    const top = await docker(['top', 'many']);
    assert.equal(top.code, 0, top.stderr);
    assert.equal(top.stdout.trim().split('\n').length, 2, top.stdout);
    const ps = await docker(['inspect', '-f', '{{.State.Running}}', 'many']);
    assert.equal(ps.stdout, 'true\n');
  });
});

// Swarm and plugins through the real docker CLI and docker-py: berthd answers as a dockerd that is in no
// swarm and has no plugins, so `docker plugin ls`, `docker swarm leave` and docker-py's tearDown work.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startDaemon, type Daemon } from '../helpers/daemon.js';

const run = promisify(execFile);
const DOCKER = '/usr/local/bin/docker';
const skip = process.getuid?.() !== 0 ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : false;

describe('swarm and plugins as a dockerd without them', { skip }, () => {
  let d: Daemon;
  const docker = async (...args: string[]) => run(DOCKER, args, { env: d.env }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));

  before(async () => { d = await startDaemon(); });
  after(async () => { await d?.stop(); });

  test('docker CLI: plugin ls is empty, plugin inspect is not found, swarm and node commands say why', async () => {
    const ls = await docker('plugin', 'ls', '--format', '{{.Name}}');
    assert.equal(ls.code, 0, ls.stderr);
    assert.equal(ls.stdout, '');
    const insp = await docker('plugin', 'inspect', 'vieux/sshfs');
    assert.notEqual(insp.code, 0);
    assert.match(insp.stderr, /plugin "vieux\/sshfs" not found/);
    const leave = await docker('swarm', 'leave');
    assert.notEqual(leave.code, 0);
    assert.match(leave.stderr, /This node is not part of a swarm/);
    const nodes = await docker('node', 'ls');
    assert.notEqual(nodes.code, 0);
    assert.match(nodes.stderr, /This node is not a swarm manager/);
  });

  test('docker-py: swarm.leave(force) succeeds, plain leave raises APIError 503, plugins.list is empty', async () => {
    const py = `
import docker, json, sys
c = docker.DockerClient(base_url=sys.argv[1])
out = {'plugins': [p.name for p in c.plugins.list()]}
# docker-py's tearDown: leave(force=True) treats dockerd's 503 as "nothing to leave"; a 404 would raise
out['forced'] = c.swarm.leave(force=True)
try:
    c.swarm.leave(); out['leave'] = 'no error'
except docker.errors.APIError as e:
    out['leave'] = [e.status_code, e.explanation]
print(json.dumps(out))
`;
    const r = await run('/usr/bin/python3', ['-c', py, d.host], { timeout: 30_000 });
    const j = JSON.parse(r.stdout) as { plugins: string[]; forced: boolean; leave: [number, string] };
    assert.deepEqual(j.plugins, []);
    assert.equal(j.forced, true);
    assert.deepEqual(j.leave, [503, 'This node is not part of a swarm']);
  });
});

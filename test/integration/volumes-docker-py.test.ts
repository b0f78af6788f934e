// docker-py (Debian python3-docker) against berthd: volumes create/list/get/remove/prune, a container with
// `volumes=` and `mounts=`, volumes_from, the in-use refusal, and log_config.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, run } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

function dockerPy(): string | false {
  if (!isRoot) return 'needs root';
  try { execFileSync('/usr/bin/python3', ['-c', 'import docker'], { stdio: 'ignore' }); } catch { return 'needs /usr/bin/python3 with python3-docker'; }
  return !fs.existsSync('/usr/local/bin/docker') ? 'needs the docker CLI' : false;
}

const PY = String.raw`
import sys, docker
from docker.types import Mount, LogConfig
c = docker.DockerClient(base_url=sys.argv[1])
img = sys.argv[2]
out = []
v = c.volumes.create(name="pyvol", labels={"k": "v"})
out.append("created %s %s %s" % (v.name, v.attrs["Driver"], v.attrs["Labels"]))
out.append("listed %s" % sorted(x.name for x in c.volumes.list()))
out.append("got %s" % c.volumes.get("pyvol").attrs["Labels"]["k"])
try:
    c.volumes.get("nosuch")
except docker.errors.NotFound as e:
    out.append("notfound")
w = c.containers.run(img, ["sh", "-c", "echo py > /data/f; echo tmp > /t/x; cat /t/x"], name="pyw",
    volumes={"pyvol": {"bind": "/data", "mode": "rw"}}, mounts=[Mount("/t", None, type="tmpfs", tmpfs_size="1m")],
    log_config=LogConfig(type="json-file", config={"max-size": "1m", "max-file": "2"}), detach=True)
out.append("exit %s" % w.wait()["StatusCode"])
out.append("logs %s" % w.logs().decode().strip())
w.reload()
out.append("mounts %s" % sorted((m["Type"], m["Destination"], m.get("Name", "")) for m in w.attrs["Mounts"]))
out.append("logconfig %s" % w.attrs["HostConfig"]["LogConfig"]["Config"])
r = c.containers.run(img, ["cat", "/data/f"], volumes_from=["pyw:ro"], remove=True)
out.append("from %s" % r.decode().strip())
try:
    c.volumes.get("pyvol").remove()
except docker.errors.APIError as e:
    out.append("inuse %s %s" % (e.status_code, "volume is in use" in str(e)))
try:
    c.containers.create(img, ["true"], mounts=[Mount("/x", "relative/src", type="bind")])
except docker.errors.APIError as e:
    out.append("bad %s %s" % (e.status_code, e.explanation))
w.remove()
c.volumes.get("pyvol").remove()
c.volumes.create()
out.append("pruned %d" % len(c.volumes.prune()["VolumesDeleted"] or []))
out.append("left %s" % [x.name for x in c.volumes.list()])
print("\n".join(out))
`;

describe('volumes (docker-py)', { skip: dockerPy() }, () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
    const tarFile = path.join(d.dir, 'rootfs.tar');
    fs.writeFileSync(tarFile, await tarDir(await busyboxRootfs(), false));
    const r = await run('/usr/local/bin/docker', ['import', '-c', 'CMD ["sh"]', tarFile, 'bb:py'], { env: d.env });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => { await d?.stop(); });

  test('volumes, volume and tmpfs mounts, volumes_from, log_config, in-use and bad-spec errors', async () => {
    const r = await run('/usr/bin/python3', ['-c', PY, d.host, 'bb:py'], { env: d.env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, [
      "created pyvol local {'k': 'v'}",
      "listed ['pyvol']",
      'got v',
      'notfound',
      'exit 0',
      'logs tmp',
      "mounts [('tmpfs', '/t', ''), ('volume', '/data', 'pyvol')]",
      "logconfig {'max-size': '1m', 'max-file': '2'}",
      'from py',
      'inuse 409 True',
      `bad 400 invalid mount config for type "bind": invalid mount path: 'relative/src' mount path must be absolute`,
      'pruned 1',
      'left []',
    ].join('\n') + '\n');
  });
});

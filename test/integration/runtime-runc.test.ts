// Differential: the same bundle under `runc run` and `berth runtime run` gives the same probe facts.
// Documented differences: namespace inode numbers and fd targets (pipes) differ by nature.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, describe, test } from 'node:test';
import { dockerSeccomp, isRoot, makeBundle, parseJSON, rmBundle, run, Runtime, uniqueId } from '../helpers/bundle.js';
import type { Spec } from '../../src/runtime/spec-types.js';

const haveRunc = fs.existsSync('/usr/sbin/runc') || fs.existsSync('/usr/bin/runc');
const skip = !isRoot ? 'needs root' : !haveRunc ? 'needs runc (apt-get install runc)' : false;
const rt = new Runtime();
const runcRoot = fs.mkdtempSync('/run/berth-test-runc-');

type Facts = Record<string, unknown> & { mounts: Array<Record<string, string>>; cgroup: string[] };

async function both(edit: (s: Spec) => void, args = ['facts']): Promise<{ berth: Facts; runc: Facts }> {
  const b = await makeBundle((s) => { s.process!.args = ['/bin/probe', ...args]; edit(s); });
  try {
    const rb = await rt.berth(['run', '-b', b.dir, b.id]);
    assert.equal(rb.code, 0, `berth: ${rb.stderr}`);
    const cfg = JSON.parse(fs.readFileSync(`${b.dir}/config.json`, 'utf8')) as Spec;
    cfg.linux!.cgroupsPath = `/berth-test/runc-${b.id}`;
    fs.writeFileSync(`${b.dir}/config.json`, JSON.stringify(cfg));
    const rr = await run('runc', ['--root', runcRoot, 'run', '-b', b.dir, uniqueId('runc')]);
    assert.equal(rr.code, 0, `runc: ${rr.stderr}`);
    return { berth: parseJSON<Facts>(rb), runc: parseJSON<Facts>(rr) };
  } finally { rmBundle(b); }
}

/** What must agree: everything but namespace ids, fds and mount ids. */
function comparable(f: Facts): Record<string, unknown> {
  const { ns: _ns, fds: _fds, mounts, ...rest } = f;
  return { ...rest, mounts: mounts.map((m) => `${m.target} ${m.fstype} ${m.options}`).sort() };
}

describe('berth runtime vs runc', { skip }, () => {
  after(async () => { await rt.cleanup(); fs.rmSync(runcRoot, { recursive: true, force: true }); });

  test('default spec: identical process facts', async () => {
    const { berth, runc } = await both(() => {});
    assert.deepEqual(comparable(berth), comparable(runc));
  });

  test('non-root user with groups, rlimits, oom score and Docker\'s seccomp profile: identical', async () => {
    const seccomp = await dockerSeccomp(['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_AUDIT_WRITE']);
    const { berth, runc } = await both((s) => {
      s.process!.user = { uid: 1000, gid: 1000, additionalGids: [1001] };
      s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 256, hard: 512 }];
      s.process!.oomScoreAdj = 100;
      s.linux!.seccomp = seccomp;
    });
    assert.deepEqual(comparable(berth), comparable(runc));
  });

  test('seccomp denies the same calls with the same errno', async () => {
    const seccomp = await dockerSeccomp(['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_AUDIT_WRITE']);
    for (const call of ['unshare', 'keyctl', 'socket', 'personality', 'clone3']) {
      const { berth, runc } = await both((s) => { s.linux!.seccomp = seccomp; }, ['syscall', call]);
      assert.deepEqual(berth, runc, call);
    }
  });
});

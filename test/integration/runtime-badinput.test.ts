// Bad config.json and bad requests: a clear error naming the field, and nothing left behind.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { cgroupDirs, isRoot, makeBundle, rmBundle, Runtime, type Bundle } from '../helpers/bundle.js';
import type { Spec } from '../../src/runtime/spec-types.js';

const skip = isRoot ? false : 'needs root';
const rt = new Runtime();

function assertNothingLeft(b: Bundle): void {
  assert.equal(fs.existsSync(path.join(rt.root, b.id)), false, 'state directory left behind');
  for (const d of cgroupDirs(b.cgroupsPath)) assert.equal(fs.existsSync(d), false, `cgroup left behind: ${d}`);
}

async function refused(edit: (s: Spec) => void, message: RegExp, verb = 'create'): Promise<void> {
  const b = await makeBundle(edit);
  try {
    const r = await rt.berth([verb, '-b', b.dir, b.id]);
    assert.equal(r.code, 1, `expected failure, got ${r.code}: ${r.stdout}`);
    assert.match(r.stderr, message);
    assertNothingLeft(b);
  } finally { rmBundle(b); }
}

describe('bad input', { skip }, () => {
  after(() => rt.cleanup());

  test('malformed config.json', async () => {
    const b = await makeBundle();
    try {
      fs.writeFileSync(path.join(b.dir, 'config.json'), '{"ociVersion": "1.2.0", "process": ');
      const r = await rt.berth(['create', '-b', b.dir, b.id]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /config\.json: invalid JSON/);
      assertNothingLeft(b);
    } finally { rmBundle(b); }
  });

  test('validation errors name the field', async () => {
    await refused((s) => { s.process!.capabilities!.bounding = ['CAP_NOPE']; }, /process\.capabilities\.bounding\[0\]: unknown capability "CAP_NOPE"/);
    await refused((s) => { s.linux!.sysctl = { 'kernel.panic': '1' }; }, /linux\.sysctl\["kernel\.panic"\]: is not namespaced/);
    await refused((s) => { s.process!.args = []; }, /process\.args/);
  });

  test('failures inside the helper name the field and clean up: cgroup, state, process', async () => {
    await refused((s) => { s.process!.cwd = '/no/such/dir'; }, /process\.cwd: chdir to cwd \/no\/such\/dir: no such file or directory/);
    await refused((s) => { s.process!.args = ['/bin/nope']; }, /process\.args\[0\]: exec: "\/bin\/nope": no such file or directory/);
    await refused((s) => { s.process!.args = ['nope']; }, /executable file not found in \$PATH/);
    await refused((s) => { s.mounts!.push({ destination: '/x', type: 'nosuchfs', source: 'none' }); }, /mounts\[7\]: mount none on \/x \(type nosuchfs/);
    await refused((s) => { s.mounts!.push({ destination: '/x', type: 'bind', source: '/no/such/source', options: ['bind'] }); }, /mounts\[7\]\.source: bind source "\/no\/such\/source" does not exist/);
    await refused((s) => { s.linux!.sysctl = { 'net.ipv4.no_such_key': '1' }; }, /linux\.sysctl\["net\.ipv4\.no_such_key"\]: open \/proc\/sys\/net\/ipv4\/no_such_key: no such file or directory/);
  });

  test('an rlimit above what the host allows fails with a clear EPERM, set in the container process', async (t) => {
    const hard = Number(/Max open files\s+\d+\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'))![1]);
    const capBnd = BigInt('0x' + /CapBnd:\s*([0-9a-f]+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]);
    if ((capBnd >> 24n) & 1n) { t.skip('this host lets root raise hard limits (CAP_SYS_RESOURCE): nothing to refuse'); return; }
    await refused((s) => { s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: hard * 2, hard: hard * 2 }]; },
      new RegExp(`process\\.rlimits\\[0\\] \\(RLIMIT_NOFILE soft=${hard * 2} hard=${hard * 2}\\): setrlimit 7 .*: operation not permitted`));
  });

  test('a cwd through a file descriptor never lands outside the root (the CVE-2024-21626 class)', async () => {
    for (let fd = 3; fd <= 8; fd++) {
      await refused((s) => { s.process!.cwd = `/proc/self/fd/${fd}`; }, /process\.cwd: (chdir to cwd|cwd \/proc\/self\/fd\/\d+ is outside the container root)/);
    }
  });

  test('unknown container and bad ids', async () => {
    assert.match((await rt.berth(['state', 'nope'])).stderr, /container nope does not exist/);
    assert.match((await rt.berth(['start', '../x'])).stderr, /invalid container id format/);
    assert.match((await rt.berth(['kill', 'nope', 'SIGFOO'])).stderr, /unknown signal "SIGFOO"/);
    assert.equal((await rt.berth(['delete', '-f', 'nope'])).code, 0, 'delete -f of nothing is fine, as with runc');
  });

  test('a terminal without a console socket is refused for create', async () => {
    await refused((s) => { s.process!.terminal = true; }, /process\.terminal: cannot allocate a tty for a detached container without --console-socket/);
  });
});

// berthd's entry runs as a program and its hashbang line sets glibc's malloc up (daemon/berthd.ts): the
// daemon started as the tests, the benches, npm's bin link and the systemd unit start it has those settings.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { isRoot } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';

describe('berthd launch', { skip: isRoot ? false : 'needs root' }, () => {
  let d: Daemon;
  before(async () => { d = await startDaemon(); });
  after(async () => { await d?.stop(); });

  test('the daemon runs with the malloc settings of its entry\'s hashbang line', () => {
    const env = fs.readFileSync(`/proc/${d.pid}/environ`, 'utf8').split('\0');
    for (const v of ['MALLOC_ARENA_MAX=2', 'MALLOC_MMAP_THRESHOLD_=131072', 'MALLOC_TRIM_THRESHOLD_=131072']) assert.ok(env.includes(v), `${v} not in berthd's environment`);
    assert.match(fs.readlinkSync(`/proc/${d.pid}/exe`), /node/, 'env(1) exec()ed node in its own process');
  });

  test('node runs with the V8 flags of the hashbang line (idle RSS, issue 13)', () => {
    const args = fs.readFileSync(`/proc/${d.pid}/cmdline`, 'utf8').split('\0');
    for (const f of ['--no-short-builtin-calls', '--max-semi-space-size=1', '--expose-gc', '--optimize-for-size']) assert.ok(args.includes(f), `${f} not in berthd's command line: ${args.join(' ')}`);
    // before the entry's path: node's own options, not arguments of berthd's
    assert.ok(args.indexOf('--no-short-builtin-calls') < args.findIndex((a) => a.endsWith('berthd.js')));
  });
});

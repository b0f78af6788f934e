// berth-helper `init --pipes` (runtime/pipe-channel): the one-shot CLI's sync exchange over two pipes that
// the helper makes and we open through /proc. No root: the plans here make no namespace and mount nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HelperSession, usePipedHelpers } from '../../src/runtime/sync.js';
import { PipeChannel } from '../../src/runtime/pipe-channel.js';
import { MSG } from '../../src/runtime/plan/tags.js';

usePipedHelpers();
const quiet = ['ignore', 'ignore', 'inherit'] as const;

test('a plan runs over the pipes and the helper answers DONE', async () => {
  const s = HelperSession.spawn('init', [{ op: 'UMASK', args: { mask: 0o22 } }], [...quiet]);
  assert.ok((s as unknown as { sock: unknown }).sock instanceof PipeChannel, 'the session is on pipes');
  assert.ok(s.pid > 0);
  s.sendPlan();
  await s.expect(MSG.DONE, 'test');
  assert.equal(await s.exited, -1, 'no EXITED from a helper that ran no process: the end of the pipe');
  s.close();
});

test('a malformed plan comes back as an ERROR, not a hang', async () => {
  const s = HelperSession.spawn('init', [], [...quiet]);
  s.send(MSG.PLAN, Buffer.from([1, 2, 3]));
  await assert.rejects(s.expect(MSG.DONE, 'test'), /malformed plan record/);
  s.close();
});

test('a foreground process: READY, GO, then its exit status as EXITED (the helper is not our child)', async () => {
  const s = HelperSession.spawn('init', [
    { op: 'CLONE', args: { flags: 0, detach: 0, relay: 0 } },
    { op: 'READY' },
    { op: 'SYNC_GO' },
    { op: 'EXEC', args: { args: ['/bin/sh', '-c', 'exit 7'], env: [] } },
  ], [...quiet]);
  s.sendPlan();
  const pid = (await s.expect(MSG.CHILD_PID, 'test')).readUInt32LE(0);
  assert.ok(pid > 0 && pid !== s.pid);
  await s.expect(MSG.READY, 'test');
  s.send(MSG.GO);
  assert.equal(await s.exited, 7);
  s.close();
});

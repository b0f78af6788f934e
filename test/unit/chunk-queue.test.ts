// util/chunk-queue: order, no copies, back-pressure, failures both ways.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkQueue } from '../../src/util/chunk-queue.js';

test('chunk queue: chunks arrive in order, as the same buffers, and the producer waits for room', async () => {
  const q = new ChunkQueue(10);
  const sent = [Buffer.from('aaaaaaaa'), Buffer.from('bbbbbbbb'), Buffer.from('c')];
  let pushed = 0;
  const producer = (async () => { for (const c of sent) { await q.push(c); pushed++; } q.end(); })();
  await new Promise((r) => setImmediate(r));
  assert.equal(pushed, 1, 'the second push waits: 16 bytes queued is over the 10 allowed');
  const got: Buffer[] = [];
  for await (const c of q) got.push(c);
  await producer;
  assert.equal(got.length, 3);
  got.forEach((c, i) => assert.equal(c, sent[i], 'not copied, not concatenated'));
});

test('chunk queue: a producer failure reaches the consumer; a consumer that stops early releases the producer', async () => {
  const q = new ChunkQueue();
  void q.push(Buffer.from('x'));
  q.fail(new Error('walk failed'));
  await assert.rejects(async () => { for await (const c of q) void c; }, /walk failed/);
  const q2 = new ChunkQueue(1);
  const producer = (async () => { for (;;) await q2.push(Buffer.from('yy')); })();
  for await (const c of q2) { void c; break; }
  await assert.rejects(producer, /the consumer stopped/);
});

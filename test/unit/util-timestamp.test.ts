// util/timestamp: since/until text, one parser for the CLI (moby GetTimestamp) and berthd (ParseTimestamps and
// what the CLI would have converted); events' exact nanoseconds; docker's event line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getTimestamp, timestampMs, timestampNs, unixText, unixTimestampNs } from '../../src/util/timestamp.js';
import { rfc3339NanoFixed } from '../../src/util/time.js';
import { EventBus, eventJson, eventNs } from '../../src/daemon/events.js';
import { eventLine } from '../../src/cli/docker/system.js';

const NOON = 1_796_644_800n; // 2026-12-07T12:00:00Z

test('unix seconds[.nanoseconds] to the nanosecond (moby ParseTimestamps)', () => {
  assert.equal(unixTimestampNs('1796644800.123456789'), NOON * 1_000_000_000n + 123_456_789n);
  assert.equal(unixTimestampNs('1796644800.5'), NOON * 1_000_000_000n + 500_000_000n);
  assert.equal(unixTimestampNs('1796644800'), NOON * 1_000_000_000n);
  assert.equal(unixTimestampNs('10m'), undefined);
  assert.equal(unixText(NOON * 1_000_000_000n + 5n), '1796644800.000000005');
});

test('berthd reads what the CLI sends and what the CLI would convert, by the same rules', () => {
  const now = Number(NOON) * 1000;
  const ns = (s: bigint) => s * 1_000_000_000n;
  // exact: a double in ms would drop the last digits
  assert.equal(timestampNs('1796644800.123456789', now), ns(NOON) + 123_456_789n);
  assert.equal(timestampNs('2026-12-07T12:00:00.123456789Z', now), ns(NOON) + 123_456_789n);
  assert.equal(timestampNs('2026-12-07T13:00:00.000000001+01:00', now), ns(NOON) + 1n);
  // Go durations, several units too (the old daemon regex took one unit only)
  assert.equal(timestampNs('10m', now), ns(NOON - 600n));
  assert.equal(timestampNs('1h30m', now), ns(NOON - 5400n));
  assert.equal(timestampNs('1.5h', now), ns(NOON - 5400n));
  assert.equal(timestampNs('500ms', now), ns(NOON - 1n));
  // the CLI converts to the same instant the daemon computes from the raw value
  for (const v of ['10m', '1h30m', '2026-12-07T12:00:00.25Z', '1796644800.000000007']) assert.equal(timestampNs(getTimestamp(v, now), now), timestampNs(v, now), v);
  assert.equal(timestampMs('1796644800.5', now), Number(NOON) * 1000 + 500);
  for (const bad of ['yesterday', '2026-13-01', '1m-', '']) assert.throws(() => timestampNs(bad, now), /invalid timestamp/);
});

test('rfc3339NanoFixed is Go RFC3339NanoFixed: nine digits, Z or the offset', () => {
  const t = NOON * 1_000_000_000n + 123_456_789n;
  assert.equal(rfc3339NanoFixed(t), '2026-12-07T12:00:00.123456789Z');
  assert.equal(rfc3339NanoFixed(NOON * 1_000_000_000n), '2026-12-07T12:00:00.000000000Z');
  assert.equal(rfc3339NanoFixed(t, 60), '2026-12-07T13:00:00.123456789+01:00');
  assert.equal(rfc3339NanoFixed(t, -330), '2026-12-07T06:30:00.123456789-05:30');
});

test('an event keeps its nanoseconds on the wire and in the CLI line', () => {
  const bus = new EventBus();
  const e = bus.publish('container', 'start', 'c'.repeat(64), { name: 'web', image: 'busybox', Bcap: 'x' });
  const text = eventJson(e);
  assert.equal(/"timeNano":(\d+)/.exec(text)![1], String(eventNs(e)));
  assert.deepEqual({ ...JSON.parse(text), timeNano: 0 }, { ...JSON.parse(JSON.stringify(e)), timeNano: 0 });
  assert.equal(BigInt(e.time), eventNs(e) / 1_000_000_000n);
  // docker/cli prettyPrintEvent; attributes in Go's byte order (upper case first)
  const m = { Type: 'container' as const, Action: 'start', Actor: { ID: 'abc', Attributes: { name: 'web', image: 'busybox', Bcap: 'x' } }, scope: 'local' as const, time: Number(NOON), timeNano: 0 };
  assert.equal(eventLine(m, NOON * 1_000_000_000n + 123_456_789n, 0), '2026-12-07T12:00:00.123456789Z container start abc (Bcap=x, image=busybox, name=web)\n');
  assert.equal(eventLine({ ...m, Actor: { ID: 'abc', Attributes: {} } }, NOON * 1_000_000_000n + 1n, 60), '2026-12-07T13:00:00.000000001+01:00 container start abc\n');
});

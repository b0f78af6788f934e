// Issue 7 item 2, logs: the json log holds the container's output, so readLog never holds a line longer
// than the monitor can write; such a line is skipped and the entries after it still come.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { LOG_LINE_MAX, readLog, type LogEntry } from '../../src/monitor/index.js';

const entry = (log: string, time = '2026-01-01T00:00:00.000000000Z') => JSON.stringify({ log, stream: 'stdout', time }) + '\n';

async function all(file: string, o = {}): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of readLog(file, o)) out.push(e);
  return out;
}

test('a line longer than the monitor writes is skipped, with or without its newline yet', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-log-'));
  try {
    const file = path.join(dir, 'json.log');
    // the longest the monitor writes: LOG_LINE_MAX bytes, each escaped to 6 ("\u0001")
    const longest = '\u0001'.repeat(LOG_LINE_MAX);
    const tooLong = entry('x'.repeat(LOG_LINE_MAX * 8));
    fs.writeFileSync(file, entry('a') + tooLong + entry(longest) + entry('b'));
    assert.deepEqual((await all(file)).map((e) => e.line), ['a', longest, 'b']);
    assert.deepEqual((await all(file, { tail: 2 })).map((e) => e.line), [longest, 'b']);
    // a huge line still being written: nothing of it is kept, and what follows its end is read
    fs.writeFileSync(file, entry('a') + 'y'.repeat(LOG_LINE_MAX * 8));
    assert.deepEqual((await all(file)).map((e) => e.line), ['a']);
    fs.appendFileSync(file, 'y\n' + entry('c'));
    assert.deepEqual((await all(file)).map((e) => e.line), ['a', 'c']);
  } finally { fs.rmSync(dir, { recursive: true }); }
});

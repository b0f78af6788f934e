// util/time: the same text as Date's toISOString / toUTCString, without the ICU time-zone data those load.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { httpDate, isoTime } from '../../src/util/time.js';

const samples = [0, 1, 999, 1000, 59_999, 951_782_400_000 /* 2000-02-29 */, 1_700_000_000_123, 1_796_153_376_010, 253_402_300_799_999 /* 9999-12-31 */, -1, -62_167_219_200_000 /* year 0 */];

test('isoTime is Date.prototype.toISOString', () => {
  for (const ms of samples) assert.equal(isoTime(ms), new Date(ms).toISOString(), String(ms));
  for (let i = 0; i < 2000; i++) { const ms = Math.floor(Math.random() * 4e12); assert.equal(isoTime(ms), new Date(ms).toISOString(), String(ms)); }
  assert.equal(isoTime(8.64e15), new Date(8.64e15).toISOString()); // an expanded year: the method's own text
  assert.throws(() => isoTime(NaN), RangeError);
});

test('httpDate is Date.prototype.toUTCString (an HTTP IMF-fixdate)', () => {
  for (const ms of samples.filter((m) => m >= 0)) assert.equal(httpDate(ms), new Date(ms).toUTCString(), String(ms));
  for (let i = 0; i < 2000; i++) { const ms = Math.floor(Math.random() * 4e12); assert.equal(httpDate(ms), new Date(ms).toUTCString(), String(ms)); }
});

test('neither pages in the ICU data that Date.prototype.toISOString does', (t) => {
  // file-backed resident memory of a fresh node before and after the call (ICU's data is node's own pages,
  // or libicudata's where node links the system ICU)
  const mod = fileURLToPath(new URL('../../src/util/time.js', import.meta.url));
  const fileKb = `() => { const r = readFileSync('/proc/self/smaps_rollup', 'utf8'); const kb = (k) => Number(r.split('\\n' + k + ':')[1].trim().split(' ')[0]); return kb('Rss') - kb('Anonymous'); }`;
  // kB paged in by `then`, after `first` ran
  const grows = (first: string, then: string) => Number(execFileSync(process.execPath, ['--input-type=module', '-e',
    `import { readFileSync } from 'node:fs'; const fileKb = ${fileKb}; const t = await import(${JSON.stringify(mod)}); ${first}; const before = fileKb(); ${then}; process.stdout.write(String(fileKb() - before))`], { encoding: 'utf8' }));
  const iso = 'new Date(1e12).toISOString()';
  const control = grows('', iso);
  if (control < 300) { t.skip(`toISOString paged in only ${control} kB here (a node without full ICU): nothing to compare`); return; }
  // after ours ran, toISOString still has all of it to page in: ours did not
  const after = grows('t.isoTime(1e12); t.httpDate(1e12); t.isoTime(); t.httpDate()', iso);
  assert.ok(after > control / 2, `toISOString paged in ${control} kB alone, only ${after} kB after isoTime/httpDate`);
});

// bench/cli-time: runs commands in interleaved rounds (each round in a new random order, so load on the
// machine falls on all of them alike) and prints each one's wall-time median; for berth it also takes the
// daemon's part from the timing line BERTH_DEBUG prints at exit (src/client/timing.ts). See bench/cli.sh.
// node bench/cli-time.mjs ROUNDS SPEC.json  (SPEC: [{ "name": "...", "argv": [...], "env": {...} }])
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

const [rounds, specFile] = [Number(process.argv[2]), process.argv[3]];
const spec = JSON.parse(fs.readFileSync(specFile, 'utf8'));
const runs = new Map(spec.map((s) => [s.name, []]));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

for (let r = 0; r < rounds; r++) {
  const order = [...spec].sort(() => Math.random() - 0.5);
  for (const s of order) {
    const t0 = process.hrtime.bigint();
    const p = spawnSync(s.argv[0], s.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...s.env }, encoding: 'utf8' });
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    if (p.status !== 0 && !s.mayFail) { process.stderr.write(`bench: ${s.argv.join(' ')} failed (${p.status}): ${p.stderr}`); process.exit(1); }
    const m = /timing first-request=([\d.]+)ms daemon-wait=([\d.]+)ms last-answer=([\d.]+)ms exit=([\d.]+)ms/.exec(p.stderr);
    // a berth run without its timing line would leave the direct columns empty ("-"): stop instead, and say why
    if (s.env?.BERTH_DEBUG && !m) { process.stderr.write(`bench: ${s.argv.join(' ')} printed no "berth: timing" line with BERTH_DEBUG; is ${s.argv[1]} built from this tree (npm run build)?\n`); process.exit(1); }
    const cpu = /cpu=([\d.]+)ms/.exec(p.stderr);
    runs.get(s.name).push({ wall, ...(m ? { first: +m[1], wait: +m[2], last: +m[3], exit: +m[4] } : {}), ...(cpu ? { cpu: +cpu[1] } : {}) });
  }
}
const out = {};
for (const [name, rs] of runs) {
  out[name] = { wall: median(rs.map((x) => x.wall)) };
  if (rs[0].cpu !== undefined) out[name].cpu = median(rs.map((x) => x.cpu));
  if (rs[0].wait !== undefined) {
    Object.assign(out[name], {
      wait: median(rs.map((x) => x.wait)), first: median(rs.map((x) => x.first)), tail: median(rs.map((x) => x.exit - x.last)),
      // per run: the wall time with the daemon's part taken out
      notWaiting: median(rs.map((x) => x.wall - x.wait)),
    });
  }
}
process.stdout.write(JSON.stringify(out) + '\n');

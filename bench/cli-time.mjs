// bench/cli-time: runs commands in groups, each group with its own floor processes run next to its commands, and
// takes every run's difference from the floor run of the same group in the same round, then the median of those
// differences: the floor and the command it is taken from are always seconds apart at most, so a drift of the
// machine's load (another helper's build, a suite starting) falls on both (issue 13: one bench run's floor median
// read 17 ms above the usual and three CLI rows failed; the previous method took median(command) - median(floor)
// over the whole run). Rounds: every group once, groups in a new random order, the processes inside a group in a
// new random order (no one always first). For berth it also takes the daemon's part from the timing line
// BERTH_DEBUG prints at exit (src/client/timing.ts). See bench/cli.sh.
// node bench/cli-time.mjs ROUNDS SPEC.json
//   SPEC: { "commands": { NAME: { "argv": [...], "env": {...} } },
//           "groups": [{ "wall": FLOOR, "cpu": CPUFLOOR?, "runs": [NAME, ...] }] }
//   A floor named by several groups runs once in each (a fresh process next to that group's commands).
// Output (JSON, per command name): medians of wall (and wait, first, tail, cpu when printed); and per group
// member, over rounds: own = wall - daemon wait - floor wall, over = wall - floor wall,
// ownCpu = cpu - cpu floor's cpu; each as { median, p25, p75 }.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

const [rounds, specFile] = [Number(process.argv[2]), process.argv[3]];
const { commands, groups } = JSON.parse(fs.readFileSync(specFile, 'utf8'));
const runs = new Map(Object.keys(commands).map((n) => [n, []]));
const paired = new Map(groups.flatMap((g) => g.runs.map((n) => [n, { own: [], over: [], ownCpu: [] }])));
const quantile = (xs, q) => { const s = [...xs].sort((a, b) => a - b); const i = (s.length - 1) * q; const lo = Math.floor(i); return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo); };
const median = (xs) => quantile(xs, 0.5);
const shuffle = (xs) => { const a = [...xs]; for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(Math.random() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; } return a; };

function runOne(name) {
  const s = commands[name];
  const t0 = process.hrtime.bigint();
  const p = spawnSync(s.argv[0], s.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...s.env }, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (p.status !== 0) { process.stderr.write(`bench: ${s.argv.join(' ')} failed (${p.status}): ${p.stderr}`); process.exit(1); }
  const m = /timing first-request=([\d.]+)ms daemon-wait=([\d.]+)ms last-answer=([\d.]+)ms exit=([\d.]+)ms/.exec(p.stderr);
  // a berth run without its timing line would leave the direct columns empty ("-"): stop instead, and say why
  if (s.env?.BERTH_DEBUG && !m) { process.stderr.write(`bench: ${s.argv.join(' ')} printed no "berth: timing" line with BERTH_DEBUG; is ${s.argv[1]} built from this tree (npm run build)?\n`); process.exit(1); }
  const cpu = /cpu=([\d.]+)ms/.exec(p.stderr);
  const r = { wall, ...(m ? { first: +m[1], wait: +m[2], last: +m[3], exit: +m[4] } : {}), ...(cpu ? { cpu: +cpu[1] } : {}) };
  runs.get(name).push(r);
  return r;
}

for (let r = 0; r < rounds; r++) {
  for (const g of shuffle(groups)) {
    const floors = [g.wall, ...(g.cpu ? [g.cpu] : [])];
    const got = {};
    // floors and runs of one group one after another, in a random order (none always first, none always last)
    for (const i of shuffle([...floors.map((_, k) => -1 - k), ...g.runs.keys()])) {
      const name = i < 0 ? floors[-1 - i] : g.runs[i];
      got[i < 0 ? `floor${-1 - i}` : name] = runOne(name);
    }
    for (const name of g.runs) {
      const x = got[name];
      paired.get(name).own.push(x.wall - (x.wait ?? 0) - got.floor0.wall);
      paired.get(name).over.push(x.wall - got.floor0.wall);
      if (g.cpu && x.cpu !== undefined) paired.get(name).ownCpu.push(x.cpu - got.floor1.cpu);
    }
  }
}
const stats = (xs) => (xs.length ? { median: median(xs), p25: quantile(xs, 0.25), p75: quantile(xs, 0.75) } : undefined);
const out = {};
for (const [name, rs] of runs) {
  out[name] = { wall: median(rs.map((x) => x.wall)) };
  if (rs[0].cpu !== undefined) out[name].cpu = median(rs.map((x) => x.cpu));
  if (rs[0].wait !== undefined) {
    Object.assign(out[name], {
      wait: median(rs.map((x) => x.wait)), first: median(rs.map((x) => x.first)), tail: median(rs.map((x) => x.exit - x.last)),
    });
  }
  const p = paired.get(name);
  if (p) Object.assign(out[name], { own: stats(p.own), over: stats(p.over), ownCpu: stats(p.ownCpu) });
}
process.stdout.write(JSON.stringify(out) + '\n');

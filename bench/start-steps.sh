#!/usr/bin/env bash
# berthd's own time on the create + start path of one container, apart from its waits on the helper,
# the monitor and the spawner: BERTH_DEBUG makes berthd trace one split per request (util/trace.ts span),
#   berth: …ms POST /containers/{id}/start …: wall W ms = own O ms (cpu user U, sys S) + waiting X ms (…)
# N `docker run -d --network none` one after another (so the process-wide CPU figures belong to the one
# request); prints the medians of create, start and their sum. As root: bash bench/start-steps.sh [N]
# (BERTHD_NODE_ARGS="--cpu-prof --cpu-prof-dir DIR" profiles berthd; STEPS_LOG=FILE keeps its trace)
# Runtime state goes on a tmpfs, as berthd's default /run/berth is on a systemd host: under --root alone it
# would sit in <root>/run on the disk, where every state.json rename is an ext4 write of its own.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-15}
WORK=$(mktemp -d /tmp/berth-bench-steps-XXXX)
BS=$WORK/berth.sock DS=
mkdir "$WORK/run" && mount -t tmpfs -o mode=0711 tmpfs "$WORK/run" # peers.sh's cleanup unmounts it
# berthd as every bench starts it (bench/peers.sh: setsid, a watcher, its own bridge and table), alone, tracing;
# BERTHD_NODE_ARGS reaches it there
PEERS_DOCKERD=0 PEERS_BERTHD_ENV=BERTH_DEBUG=1 PEERS_BERTHD_ARGS="--exec-root $WORK/run"
. "$here/bench/peers.sh"
S=$BS
DOCKER_HOST=unix://$S docker import -c 'CMD ["sh"]' "$WORK/rootfs.tar" bb:bench >/dev/null
# one unmeasured run: the spawner and lazily loaded modules start here
DOCKER_HOST=unix://$S docker run -d --network none bb:bench true >/dev/null
sleep 1
# the measured part of the trace starts here: berthd appends (2>>), so no truncation leaves it writing
# past a hole, and the runs are counted below (none found is a failure, never a row of NaN)
from=$(stat -c %s "$WORK/berthd.log")
# berthd's CPU over the runs, beside the trace's wall-clock split: its main thread's time on a CPU (schedstat,
# ns) is what its "own" time is on a quiet host, and unlike wall time it holds up on a loaded one; all its
# threads (stat's utime + stime, ticks) add the GC's, the compiler's and libuv's
bpid=$(cat "$WORK/berthd.pid")
cpu_main() { cut -d' ' -f1 "/proc/$bpid/task/$bpid/schedstat"; }
cpu_all() { awk '{ print $14 + $15 }' "/proc/$bpid/stat"; }
main0=$(cpu_main) all0=$(cpu_all)
for _ in $(seq "$n"); do DOCKER_HOST=unix://$S docker run -d --network none bb:bench sleep 60 >/dev/null; sleep 0.2; done
main1=$(cpu_main) all1=$(cpu_all)
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$bpid/status") # kB, with the runs' code compiled

awk -v m="$((main1 - main0))" -v a="$((all1 - all0))" -v hz="$(getconf CLK_TCK)" -v n="$n" -v rss="$rss" 'BEGIN { printf "berthd CPU per container (its docker run -d: ping, create, wait, start): main thread %.2f ms, all threads %.1f ms; its RSS after them %.1f MB\n", m / n / 1e6, a * 1000 / hz / n, rss / 1024 }'
node - "$WORK/berthd.log" "$from" "$n" <<'JS'
const fs = require('fs');
const buf = fs.readFileSync(process.argv[2]);
const lines = buf.subarray(Number(process.argv[3])).toString('utf8').split('\n');
const re = /(POST \/containers\/(create|\{id\}\/start)) \S+: wall ([\d.]+) ms = own ([\d.]+) ms \(cpu user ([\d.]+), sys ([\d.]+)\) \+ waiting ([\d.]+) ms(?: \((.*)\))?/;
const runs = { create: [], start: [] };
for (const l of lines) { const m = re.exec(l); if (m) runs[m[2] === 'create' ? 'create' : 'start'].push(m); }
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const col = (ms, i) => ms.map((m) => Number(m[i]));
const sum = { wall: [], own: [], user: [], sys: [], wait: [] };
const k = Math.min(runs.create.length, runs.start.length);
for (let i = 0; i < k; i++) {
  const c = runs.create[i], s = runs.start[i];
  sum.wall.push(+c[3] + +s[3]); sum.own.push(+c[4] + +s[4]); sum.user.push(+c[5] + +s[5]); sum.sys.push(+c[6] + +s[6]); sum.wait.push(+c[7] + +s[7]);
}
const show = (name, r) => console.log(`${name.padEnd(15)} wall ${med(r.wall).toFixed(1)} ms = own ${med(r.own).toFixed(1)} ms (cpu user ${med(r.user).toFixed(1)}, sys ${med(r.sys).toFixed(1)}) + waiting ${med(r.wait).toFixed(1)} ms`);
for (const w of ['create', 'start']) {
  const ms = runs[w];
  show(w, { wall: col(ms, 3), own: col(ms, 4), user: col(ms, 5), sys: col(ms, 6), wait: col(ms, 7) });
  const waits = {};
  for (const m of ms) for (const part of (m[8] ?? '').split(', ').filter(Boolean)) { const j = part.lastIndexOf(' '); (waits[part.slice(0, j)] ??= []).push(Number(part.slice(j + 1))); }
  for (const [name, v] of Object.entries(waits)) console.log(`    waiting on ${name}: median ${med(v).toFixed(1)} ms`);
}
if (k < Number(process.argv[4])) {
  console.error(`start-steps: ${k} create+start traces in berthd's log for ${process.argv[4]} runs; its last lines:\n${lines.slice(-15).join('\n')}`);
  process.exit(1);
}
show('create + start', sum);
console.log(`(medians of ${k} runs, one at a time)`);
const t = '\t';
console.log(`BENCH${t}create+start own time per container (ms)${t}${med(sum.own).toFixed(1)}${t}abs${t}1${t}ms${t}<=10`);
console.log(`BENCH${t}create+start wall per container, one at a time (ms)${t}${med(sum.wall).toFixed(1)}${t}abs${t}1${t}ms${t}-`);
JS
[ -z "${STEPS_LOG:-}" ] || cp "$WORK/berthd.log" "$STEPS_LOG" # the trace, to read step by step

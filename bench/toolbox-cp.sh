#!/usr/bin/env bash
# `docker cp` of a 100 MB directory both ways and `docker commit` of a container with 100 MB of changes,
# through Berth and through Debian's docker.io daemon on the same machine, the same busybox image and the
# same docker CLI, in one hyperfine run. containerd, then dockerd on its own socket and data root.
# Beside them the same copies through Berth's own CLI: `berth cp` -> berthd against `docker cp` -> dockerd
# (the "discard" rows: the CLI into a server that reads the body into one 4 MiB buffer and drops it, the
# floor of any daemon's figure, issue 10; node's HTTP server as that sink slowed the docker CLI by 10-30%).
# As root: bash bench/toolbox-cp.sh [RUNS]   (BERTHD_ENTRY=<dist>/bin/daemon/berthd.js, BERTH_CLI=<dist>/bin/cli/berth.cjs:
# another build's daemon and CLI)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
WORK=$(mktemp -d /tmp/berth-bench-cp-XXXX)
BS=$WORK/berth.sock DS=$WORK/docker/docker.sock XS=$WORK/discard.sock
. "$here/bench/peers.sh"
# the CLI's own floor for a copy in: a server that discards the body (bench/discard-server.mjs)
node "$here/bench/discard-server.mjs" "$XS" >"$WORK/discard.log" 2>&1 &
DISCARD=$!
trap 'kill $DISCARD 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 50); do [ -S "$XS" ] && break; sleep 0.1; done

# 100 MB in 4 directories of 25 files of 1 MB (random: nothing compresses or dedups)
DATA=$WORK/data
for d in 1 2 3 4; do mkdir -p "$DATA/d$d"; for f in $(seq 25); do head -c 1048576 /dev/urandom >"$DATA/d$d/f$f"; done; done

for S in "$BS" "$DS"; do
  export DOCKER_HOST=unix://$S
  docker import -c 'CMD ["sh"]' "$WORK/rootfs.tar" bb:bench >/dev/null
  # cp target (running) and source: /in/data holds the 100 MB once the first copy is in, so every timed
  # `cp in` replaces 100 files of 1 MB (each unlinked, its pages freed, and made anew, as docker does)
  docker run -d --name cpbox bb:bench sh -c 'mkdir /in; sleep 100000' >/dev/null
  docker cp "$DATA" cpbox:/in/
  # a container with 100 MB of changes in its writable layer
  docker run -d --name changed bb:bench sh -c 'for d in 1 2 3 4; do mkdir -p /big/d$d; for f in $(seq 25); do dd if=/dev/urandom of=/big/d$d/f$f bs=1048576 count=1 2>/dev/null; done; done; touch /done; sleep 100000' >/dev/null
  until docker exec changed test -e /done; do sleep 0.2; done
done
unset DOCKER_HOST

# one --prepare per command, in order: the copy out goes to a fresh path each run; before each `commit` the
# container's changes get a new stamp file, so every timed commit makes a new 100 MB layer as a user's commit
# after work does; `commit again` commits an unchanged container (the layer exists: both daemons throw the
# new tree away; Berth skips its syncfs then). The berth CLI's rows come last: placed before the commits
# (stop 22), they took Berth's commit of a new layer from ~0.3 s to ~0.5 s in the same run (a sync before each
# commit did not change that). Stop 23 found one cause: the syncfs that made the new layer's tree durable also
# wrote out the copies' dirty pages (a docker cp in right before each commit, load ~9: syncfs phase 265 ms
# median [58-405]; the fsyncs of the layer's own inodes that a tree of files and directories now gets, its data
# written out early, 23 [8-41]). Not checked yet in this order on a quiet host: the rows stay where they are
# the installed entry (package.json bin); BERTH_CLI: another build's, to A/B the CLI as BERTHD_ENTRY does the daemon
berth="node ${BERTH_CLI:-$here/dist/bin/cli/berth.cjs}"
stamp() { echo "docker -H unix://$1 exec changed sh -c 'head -c 16 /dev/urandom >/stamp'"; }
hyperfine -N --warmup 1 --runs "$runs" --export-json "$WORK/h.json" \
  --prepare true --prepare true --prepare true \
  --prepare "rm -rf $WORK/out" --prepare "rm -rf $WORK/out" \
  --prepare "$(stamp "$BS")" --prepare "$(stamp "$DS")" --prepare true --prepare true \
  --prepare true --prepare true --prepare "rm -rf $WORK/out" \
  -n 'cp in: berthd' "docker -H unix://$BS cp $DATA cpbox:/in/" \
  -n 'cp in: dockerd' "docker -H unix://$DS cp $DATA cpbox:/in/" \
  -n 'cp in: discard' "docker -H unix://$XS cp $DATA cpbox:/in/" \
  -n 'cp out: berthd' "docker -H unix://$BS cp cpbox:/in/data $WORK/out" \
  -n 'cp out: dockerd' "docker -H unix://$DS cp cpbox:/in/data $WORK/out" \
  -n 'commit: berthd' "docker -H unix://$BS commit changed bench:commit" \
  -n 'commit: dockerd' "docker -H unix://$DS commit changed bench:commit" \
  -n 'commit again: berthd' "docker -H unix://$BS commit changed bench:commit" \
  -n 'commit again: dockerd' "docker -H unix://$DS commit changed bench:commit" \
  -n 'berth cp in: berthd' "$berth -H unix://$BS cp $DATA cpbox:/in/" \
  -n 'berth cp in: discard' "$berth -H unix://$XS cp $DATA cpbox:/in/" \
  -n 'berth cp out: berthd' "$berth -H unix://$BS cp cpbox:/in/data $WORK/out"

# commit's tree is made when the image is first used (images/lazy-layers), so the row above is not the whole
# cost to a user who commits and then runs: this info row times both, a new 100 MB layer each time, on each daemon
hyperfine -N --runs "$runs" --export-json "$WORK/h2.json" \
  --prepare "$(stamp "$BS")" --prepare "$(stamp "$DS")" \
  -n 'commit+run: berthd' "sh -c 'docker -H unix://$BS commit changed bench:cr >/dev/null && docker -H unix://$BS run --rm --network none bench:cr true'" \
  -n 'commit+run: dockerd' "sh -c 'docker -H unix://$DS commit changed bench:cr >/dev/null && docker -H unix://$DS run --rm --network none bench:cr true'"

# berthd's own CPU per `docker cp` in (user + sys of all its threads, /proc/PID/stat), copies one after another as
# hyperfine's are: on a 2-core host the docker CLI itself takes ~1.5 cores (its CPU in the discard row), so what
# berthd adds to the CLI's floor is mostly its CPU competing for the cores, not waiting (stop 28, issue 10)
bpid=$(cat "$WORK/berthd.pid")
bcpu() { sed 's/^.*) //' "/proc/$bpid/stat" | awk '{ print $12 + $13 }'; }
c0=$(bcpu)
for _ in $(seq "$runs"); do docker -H "unix://$BS" cp "$DATA" cpbox:/in/; done
c1=$(bcpu)
BERTHD_CPU_MS=$(awk -v a="$c0" -v b="$c1" -v n="$runs" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", (b - a) * 1000 / hz / n }')
# the same after 1.5 s of quiet each (a user's copies): berthd's idle collection (daemon/heap) runs after 1 s, and
# the code it drops is compiled again by the next copy (stop 28: ~60 ms more per copy at load 30-50 than with it off)
idle=0
for _ in $(seq "$runs"); do sleep 1.5; c0=$(bcpu); docker -H "unix://$BS" cp "$DATA" cpbox:/in/; c1=$(bcpu); idle=$((idle + c1 - c0)); done
BERTHD_IDLE_CPU_MS=$(awk -v t="$idle" -v n="$runs" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", t * 1000 / hz / n }')
export BERTHD_CPU_MS BERTHD_IDLE_CPU_MS

node -e '
const r = [...JSON.parse(require("fs").readFileSync(process.argv[1])).results, ...JSON.parse(require("fs").readFileSync(process.argv[2])).results];
const m = Object.fromEntries(r.map((x) => [x.command, x.median * 1000]));
for (const k of ["cp in", "cp out", "commit", "commit again"]) {
  const b = m[`${k}: berthd`], d = m[`${k}: dockerd`];
  const label = k === "commit" ? "docker commit, new layer (100 MB)" : k === "commit again" ? "docker commit, unchanged container (100 MB)" : `docker ${k} (100 MB)`;
  console.log(["BENCH", label, b.toFixed(0), "dockerd", d.toFixed(0), "ms", k === "commit again" ? "-" : "<=0.5"].join("\t"));
  console.log(`${k.padEnd(7)} berthd ${b.toFixed(0)} ms, dockerd ${d.toFixed(0)} ms: berthd / dockerd = ${(b / d).toFixed(2)} (dockerd / berthd = ${(d / b).toFixed(2)})`);
}
{
  const b = m["commit+run: berthd"], d = m["commit+run: dockerd"];
  console.log(["BENCH", "docker commit (new 100 MB layer) + first run of the image", b.toFixed(0), "dockerd", d.toFixed(0), "ms", "-"].join("\t"));
}
const x = m["cp in: discard"];
console.log(`cp in   the CLI against a server that discards the body: ${x.toFixed(0)} ms = ${(x / m["cp in: dockerd"]).toFixed(2)} of dockerd (the floor of the ratio)`);
// CPU (user + sys, ms): the docker CLI of each cp in row (the means hyperfine took), and berthd per copy (above)
const cpu = Object.fromEntries(r.map((x) => [x.command, (x.user + x.system) * 1000]));
console.log(`cp in   CPU per copy: docker CLI -> discard ${cpu["cp in: discard"].toFixed(0)} ms, -> berthd ${cpu["cp in: berthd"].toFixed(0)} ms, -> dockerd ${cpu["cp in: dockerd"].toFixed(0)} ms; berthd itself ${process.env.BERTHD_CPU_MS} ms`);
console.log(["BENCH", "berthd CPU per docker cp in (100 MB, user+sys, all threads)", process.env.BERTHD_CPU_MS, "abs", "1", "ms", "-"].join("\t"));
console.log(["BENCH", "berthd CPU per docker cp in after 1.5 s idle (100 MB, user+sys, all threads)", process.env.BERTHD_IDLE_CPU_MS, "abs", "1", "ms", "-"].join("\t"));
// through our own CLI, against the docker CLI and dockerd as a user of each has it
for (const k of ["cp in", "cp out"]) {
  const b = m[`berth ${k}: berthd`], d = m[`${k}: dockerd`];
  console.log(["BENCH", `berth ${k} (100 MB): berth CLI -> berthd vs docker CLI -> dockerd`, b.toFixed(0), "dockerd", d.toFixed(0), "ms", "<=0.5"].join("\t"));
  console.log(`berth ${k.padEnd(7)} berth CLI -> berthd ${b.toFixed(0)} ms, docker CLI -> dockerd ${d.toFixed(0)} ms: ${(b / d).toFixed(2)}`);
}
const y = m["berth cp in: discard"];
console.log(`berth cp in   berth CLI against the discard server: ${y.toFixed(0)} ms = ${(y / m["cp in: dockerd"]).toFixed(2)} of dockerd (its floor; the docker CLI: ${(x / m["cp in: dockerd"]).toFixed(2)})`);
' "$WORK/h.json" "$WORK/h2.json"

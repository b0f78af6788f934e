#!/usr/bin/env bash
# Memory of berthd beside Debian's dockerd + containerd (bench/peers.sh starts all three): idle RSS;
# RSS after N `docker run --rm --network none IMG true` cycles (4 at a time) and its delta from idle;
# the RSS of one running container's monitor (berth-helper monitor; for dockerd its containerd-shim).
# As root: bash bench/memory.sh [CYCLES]   (default 500; PEER_CYCLES for dockerd, default the same)
set -euo pipefail
# berthd as a service runs it: without the operator shell's NODE_EXTRA_CA_CERTS, which has node read that CA
# bundle at its start (measured: +1.7 MB of berthd's idle RSS on the bench VM; the Go daemons ignore it)
unset NODE_EXTRA_CA_CERTS
here=$(cd "$(dirname "$0")/.." && pwd)
cycles=${1:-500}
peer_cycles=${PEER_CYCLES:-$cycles}
WORK=$(mktemp -d /tmp/berth-bench-mem-XXXX)
BS=$WORK/berth.sock DS=$WORK/docker/docker.sock
. "$here/bench/peers.sh"

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# what of it is the process's own (anonymous: V8's heap, malloc) and what is mapped files (node's binary)
split() { awk '/^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 } END { printf "anon %s kB, file %s kB", a, f }' "/proc/$1/status"; }
for s in "$BS" "$DS"; do DOCKER_HOST=unix://$s docker import -c 'CMD ["sh"]' "$WORK/rootfs.tar" bb:bench >/dev/null; done
bpid=$(cat "$WORK/berthd.pid")
peer() { echo $(( $(rss "$DOCKERD") + $(rss "$CONTAINERD") )); } # shims are per container, counted apart

settle() { sleep 3; } # a few seconds for the GC's idle work and for freed pages to go back
cycle() { # N run --rm cycles, 4 at a time; every one must succeed
  local sock=$1 n=$2
  seq "$n" | xargs -P 4 -I{} sh -c "docker -H unix://$sock run --rm --network none bb:bench true >/dev/null || echo FAIL" >"$WORK/cycle.out"
  local f; f=$(grep -c FAIL "$WORK/cycle.out" || true)
  [ "$f" = 0 ] || { echo "memory: $f of $n cycles failed against $sock" >&2; exit 1; }
}

DOCKER_HOST=unix://$BS docker info >/dev/null; DOCKER_HOST=unix://$DS docker info >/dev/null
settle
b_idle=$(rss "$bpid"); d_idle=$(peer); b_idle_split=$(split "$bpid")
cycle "$BS" "$cycles"; cycle "$DS" "$peer_cycles"
settle
b_after=$(rss "$bpid"); d_after=$(peer); b_after_split=$(split "$bpid")

# one running container each: its monitor (berth-helper monitor) / its containerd-shim-runc-v2
DOCKER_HOST=unix://$BS docker run -d --network none --name memmon bb:bench sleep 300 >/dev/null
DOCKER_HOST=unix://$DS docker run -d --network none --name memmon bb:bench sleep 300 >/dev/null
sleep 1
mon=$(pgrep -f "berth-helper monitor .*$WORK/" | head -1)
shim=$(pgrep -f "containerd-shim-runc-v2 .*$WORK/" | head -1 || true) # -address names our containerd
b_mon=$(rss "$mon"); d_mon=$([ -n "$shim" ] && rss "$shim" || echo 0)

echo "berthd idle RSS:            ${b_idle} kB ($b_idle_split)    (dockerd + containerd ${d_idle} kB)"
echo "after ${cycles} run --rm cycles:  ${b_after} kB ($b_after_split), delta $((b_after - b_idle)) kB    (dockerd + containerd after ${peer_cycles}: ${d_after} kB, delta $((d_after - d_idle)) kB)"
echo "monitor RSS:                ${b_mon} kB    (containerd-shim-runc-v2 ${d_mon} kB)"
t=$'\t'
echo "BENCH${t}idle RSS berthd (MB)${t}$(awk -v k="$b_idle" 'BEGIN { printf "%.1f", k / 1024 }')${t}abs${t}1${t}MB${t}<=50"
echo "BENCH${t}RSS growth after ${cycles} run --rm (MB)${t}$(awk -v k="$((b_after - b_idle))" 'BEGIN { printf "%.1f", k / 1024 }')${t}abs${t}1${t}MB${t}<=10"
echo "BENCH${t}monitor RSS (kB)${t}${b_mon}${t}abs${t}1${t}kB${t}<=1024"

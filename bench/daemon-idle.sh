#!/usr/bin/env bash
# Idle resident memory of berthd (after start-up and one `docker info`), and of dockerd + containerd
# when Debian's docker.io is installed (SKIP_DOCKERD=1 leaves it out). Prints kB and the ratio. Needs root.
# The daemons start as every bench starts them (bench/peers.sh: setsid, a watcher, a bridge and nft table of
# the run's own; dockerd with --bridge=none --iptables=false); BERTHD_ENTRY measures another berthd entry.
set -euo pipefail
# berthd as a service runs it: without the operator shell's NODE_EXTRA_CA_CERTS, which has node read that CA
# bundle at its start (measured: +1.7 MB of berthd's idle RSS on the bench VM; the Go daemons ignore it)
unset NODE_EXTRA_CA_CERTS
here=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/berth-bench-idle-XXXX)
BS=$WORK/berth.sock DS=$WORK/docker/docker.sock
PEERS_DOCKERD=1
if [ -n "${SKIP_DOCKERD:-}" ] || ! command -v dockerd >/dev/null || ! command -v containerd >/dev/null; then PEERS_DOCKERD=0; fi
. "$here/bench/peers.sh"

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

DOCKER_HOST="unix://$BS" docker info >/dev/null 2>&1 || curl -s --unix-socket "$BS" http://x/info >/dev/null || true
[ -z "$DS" ] || DOCKER_HOST="unix://$DS" docker info >/dev/null 2>&1 || true
sleep 2
b=$(rss "$(cat "$WORK/berthd.pid")")
echo "berthd idle RSS: ${b} kB"
printf 'BENCH\tidle RSS berthd after start + info (MB)\t%s\tabs\t1\tMB\t<=50\n' "$(mb "$b")"

if [ -n "$DS" ]; then
  d=$(( $(rss "$DOCKERD") + $(rss "$CONTAINERD") ))
  echo "dockerd + containerd idle RSS: ${d} kB"
  awk -v b="$b" -v d="$d" 'BEGIN { printf "ratio berthd/docker: %.2f\n", b / d }'
  printf 'BENCH\tidle RSS berthd vs dockerd+containerd (MB)\t%s\tdockerd+containerd\t%s\tMB\t-\n' "$(mb "$b")" "$(mb "$d")"
else
  echo "dockerd skipped (not installed, or SKIP_DOCKERD set; apt-get install docker.io containerd to compare)"
fi

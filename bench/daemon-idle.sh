#!/usr/bin/env bash
# Idle resident memory of berthd (after start-up and one `docker info`), and of dockerd + containerd
# when Debian's docker.io is installed and can start. Prints kB and the ratio. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
# the esbuild bundle (npm run build), else tsc's output
BERTHD=${BERTHD:-dist/bin/daemon/berthd.js}
[ -f "$BERTHD" ] || BERTHD=dist/src/daemon/berthd.js
tmp=$(mktemp -d)
# a bridge and nft table of this run's own (as bench/peers.sh): never berth0 or table `berth`
BTAG=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
cleanup() {
  [ -f "$tmp/berthd.pid" ] && kill "$(cat "$tmp/berthd.pid")" 2>/dev/null && sleep 1 || true
  [ -n "${dpid:-}" ] && kill "$dpid" 2>/dev/null && sleep 1 || true
  ip link del "bb$BTAG" 2>/dev/null || true
  nft delete table ip "berth_b$BTAG" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
tree_rss() { # a pid and all its descendants
  local total=0 p
  for p in $1 $(pgrep -P "$1" 2>/dev/null || true); do total=$((total + $(rss "$p" 2>/dev/null || echo 0))); done
  echo "$total"
}

# the entry as a program: its hashbang line carries settings (src/daemon/berthd.ts)
"$BERTHD" -H "unix://$tmp/berth.sock" --root "$tmp/root" --bridge "bb$BTAG" --nft-table "berth_b$BTAG" --bridge-prefix "v$BTAG" 2>"$tmp/berthd.log" &
for _ in $(seq 100); do [ -S "$tmp/berth.sock" ] && break; sleep 0.05; done
[ -S "$tmp/berth.sock" ] || { echo "berthd did not start:"; cat "$tmp/berthd.log"; exit 1; }
DOCKER_HOST="unix://$tmp/berth.sock" docker info >/dev/null 2>&1 || curl -s --unix-socket "$tmp/berth.sock" http://x/info >/dev/null || true
sleep 2
b=$(rss "$(cat "$tmp/berthd.pid")")
echo "berthd idle RSS: ${b} kB"
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
printf 'BENCH\tidle RSS berthd after start + info (MB)\t%s\tabs\t1\tMB\t<=50\n' "$(mb "$b")"

if command -v dockerd >/dev/null && [ -z "${SKIP_DOCKERD:-}" ]; then
  dockerd -H "unix://$tmp/docker.sock" --data-root "$tmp/docker" --exec-root "$tmp/exec" --pidfile "$tmp/dockerd.pid" \
    --bridge none --iptables=false --ip6tables=false >"$tmp/dockerd.log" 2>&1 &
  dpid=$!
  for _ in $(seq 200); do [ -S "$tmp/docker.sock" ] && break; sleep 0.05; done
  if [ -S "$tmp/docker.sock" ]; then
    DOCKER_HOST="unix://$tmp/docker.sock" docker info >/dev/null 2>&1 || true
    sleep 2
    d=$(tree_rss "$dpid")
    echo "dockerd + containerd idle RSS: ${d} kB"
    awk -v b="$b" -v d="$d" 'BEGIN { printf "ratio berthd/docker: %.2f\n", b / d }'
    printf 'BENCH\tidle RSS berthd vs dockerd+containerd (MB)\t%s\tdockerd+containerd\t%s\tMB\t-\n' "$(mb "$b")" "$(mb "$d")"
  else
    echo "dockerd did not start (see its log):"; tail -5 "$tmp/dockerd.log"
  fi
else
  echo "dockerd skipped (not installed, or SKIP_DOCKERD set; apt-get install docker.io to compare)"
fi

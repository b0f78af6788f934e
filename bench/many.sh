#!/usr/bin/env bash
# 50 containers started at once through the docker CLI (`docker run -d`, all launched together, then
# waited for), berthd beside Debian's dockerd (bench/peers.sh starts both), ROUNDS times each,
# alternating; every run must succeed and every container be up. As users run it: each engine's default
# bridge (both daemons in a network namespace of the bench's own, PEERS_NETNS). The one bench of this
# measure (bench/run.sh's burst, with dockerd on no network, is gone). As root: bash bench/many.sh [ROUNDS] [N]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
n=${2:-50}
WORK=$(mktemp -d /tmp/berth-bench-many-XXXX)
BS=$WORK/berth.sock DS=$WORK/docker/docker.sock
PEERS_NETNS=1
. "$here/bench/peers.sh"
for s in "$BS" "$DS"; do DOCKER_HOST=unix://$s docker import -c 'CMD ["sh"]' "$WORK/rootfs.tar" bb:bench >/dev/null; done

many() { # prints the seconds N concurrent `run -d` took; exits non-zero if one failed
  local sock=$1 start end i fail
  rm -f "$WORK/failed"
  start=$(date +%s.%N)
  for i in $(seq "$n"); do
    (docker -H "unix://$sock" run -d --name "many$i" bb:bench sleep 900 >/dev/null 2>"$WORK/err$i" || echo "$i" >>"$WORK/failed") &
  done
  wait
  end=$(date +%s.%N)
  if [ -s "$WORK/failed" ]; then
    fail=$(wc -l <"$WORK/failed")
    echo "many: $fail of $n runs failed against $sock; first error: $(cat "$WORK/err$(head -1 "$WORK/failed")")" >&2
    return 1
  fi
  local up; up=$(docker -H "unix://$sock" ps -q | wc -l)
  [ "$up" = "$n" ] || { echo "many: $up of $n containers running against $sock" >&2; return 1; }
  docker -H "unix://$sock" rm -f $(docker -H "unix://$sock" ps -aq) >/dev/null
  echo "$end - $start" | bc
}

b=() d=()
for r in $(seq "$rounds"); do
  b+=("$(many "$BS")") || exit 1
  d+=("$(many "$DS")") || exit 1
  echo "round $r: berthd ${b[-1]} s, dockerd ${d[-1]} s"
done
med() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
bm=$(med "${b[@]}") dm=$(med "${d[@]}")
echo "$n containers at once (median of $rounds): berthd $bm s, dockerd $dm s ($(awk -v b="$bm" -v d="$dm" 'BEGIN { printf "%.2f", b / d }')x)"
printf 'BENCH\t%s containers run -d at once, default bridge (s)\t%s\tdockerd\t%s\ts\t<=0.25\n' "$n" "$bm" "$dm"

#!/usr/bin/env bash
# `docker exec CTR true` through berthd and through Debian's docker.io daemon on the same busybox image
# (--network none), in one hyperfine run, plus 200 concurrent execs on one container through each.
# As root: bash bench/exec.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-30}
WORK=$(mktemp -d /tmp/berth-bench-exec-XXXX)
BS=$WORK/berth.sock DS=$WORK/docker/docker.sock
. "$here/bench/peers.sh"
for s in "$BS" "$DS"; do
  docker -H "unix://$s" import -c 'CMD ["sh"]' "$WORK/rootfs.tar" bb:bench >/dev/null
  docker -H "unix://$s" run -d --network none --name t1 bb:bench sleep 100000 >/dev/null
done

hyperfine -N --warmup 5 --runs "$runs" --export-json "$WORK/exec.json" \
  -n 'berthd' "docker -H unix://$BS exec t1 true" \
  -n 'dockerd' "docker -H unix://$DS exec t1 true"

many() { # 200 execs at once on one container; prints seconds and the number that failed
  local host=$1 start end fails=0
  start=$(date +%s.%N)
  for i in $(seq 200); do ( docker -H "unix://$host" exec t1 echo "x$i" >"$WORK/many.$i" 2>&1; echo "rc=$?" >>"$WORK/many.$i" ) & done
  wait
  end=$(date +%s.%N)
  for i in $(seq 200); do
    [ "$(cat "$WORK/many.$i")" = "$(printf 'x%s\nrc=0' "$i")" ] || { fails=$((fails + 1)); sed "s/^/$(basename "$host") exec $i: /" "$WORK/many.$i" | head -3 >&2; }
  done
  echo "$(echo "$end - $start" | bc) $fails"
}
read -r b200 bfail < <(many "$BS")
read -r d200 dfail < <(many "$DS")

node -e '
const [b, d] = JSON.parse(require("fs").readFileSync(process.argv[1])).results;
const [b200, bf, d200, df] = process.argv.slice(2).map(Number);
console.log(`docker exec CTR true: berthd median ${(b.median * 1000).toFixed(0)} ms (${(b.min * 1000).toFixed(0)}-${(b.max * 1000).toFixed(0)}), dockerd ${(d.median * 1000).toFixed(0)} ms (${(d.min * 1000).toFixed(0)}-${(d.max * 1000).toFixed(0)}): ${(d.median / b.median).toFixed(2)}x faster`);
console.log(`200 execs at once on one container: berthd ${b200.toFixed(2)} s, ${bf} failed; dockerd ${d200.toFixed(2)} s, ${df} failed`);
console.log(`BENCH\tdocker exec CTR true\t${(b.median * 1000).toFixed(1)}\tdockerd\t${(d.median * 1000).toFixed(1)}\tms\t<=0.5`);
console.log(`BENCH\t200 concurrent execs, failures\t${bf}\tabs\t1\tcount\t<=0`);
console.log(`BENCH\t200 concurrent execs\t${b200.toFixed(2)}\tdockerd\t${d200.toFixed(2)}\ts\t<=1`);
' "$WORK/exec.json" "$b200" "$bfail" "$d200" "$dfail"

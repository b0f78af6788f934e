#!/usr/bin/env bash
# `docker stats --no-stream` over 20 running containers, through Berth and through Debian's docker.io
# daemon on the same machine and the same busybox image, in one hyperfine run; ratio against dockerd.
# (`docker exec CTR true` is measured once, in bench/exec.sh.) dockerd answers stats=false only after a second sample a second later;
# berthd pairs the sample with a cached or a 100 ms older one. As root: bash bench/toolbox.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-10}
N=20
WORK=$(mktemp -d /tmp/berth-bench-toolbox-XXXX)
BS=$WORK/berth.sock DS=$WORK/docker/docker.sock
. "$here/bench/peers.sh"
for s in "$BS" "$DS"; do
  docker -H "unix://$s" import -c 'CMD ["sh"]' "$WORK/rootfs.tar" bb:bench >/dev/null
  for i in $(seq $N); do docker -H "unix://$s" run -d --network none --name "t$i" bb:bench sleep 100000 >/dev/null; done
done

hyperfine -N --warmup 2 --runs "$runs" --export-json "$WORK/stats.json" \
  -n "berthd: docker stats --no-stream ($N)" "docker -H unix://$BS stats --no-stream" \
  -n "dockerd: docker stats --no-stream ($N)" "docker -H unix://$DS stats --no-stream"

node -e '
const fs = require("fs");
for (const f of process.argv.slice(1)) {
  const [b, d] = JSON.parse(fs.readFileSync(f)).results;
  console.log(["BENCH", b.command.replace(/^berthd: /, ""), (b.median * 1000).toFixed(1), "dockerd", (d.median * 1000).toFixed(1), "ms", "<=0.5"].join("\t"));
  console.log(`${b.command.replace(/^berthd: /, "").padEnd(34)} berthd ${(b.median * 1000).toFixed(0)} ms, dockerd ${(d.median * 1000).toFixed(0)} ms: ${(d.median / b.median).toFixed(2)}x faster`);
}' "$WORK/stats.json"

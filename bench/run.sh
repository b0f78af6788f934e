#!/usr/bin/env bash
# `run --rm IMG true` through Berth and through Debian's docker.io daemon on the same machine and the
# same busybox image, in one hyperfine run: the berth CLI and the real docker CLI against berthd, the
# docker CLI against dockerd (50 at once: bench/many.sh). As root: bash bench/run.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-20}
WORK=$(mktemp -d /tmp/berth-bench-run-XXXX)
BS=$WORK/berth.sock DS=$WORK/docker/docker.sock
berth="node $here/dist/bin/cli/berth.cjs" # the installed entry (package.json bin)
. "$here/bench/peers.sh"
DOCKER_HOST=unix://$BS docker import -c 'CMD ["sh"]' "$WORK/rootfs.tar" bb:bench >/dev/null
DOCKER_HOST=unix://$DS docker import -c 'CMD ["sh"]' "$WORK/rootfs.tar" bb:bench >/dev/null

hyperfine -N --warmup 3 --runs "$runs" --export-json "$WORK/h.json" \
  -n 'berth run' "$berth -H unix://$BS run --rm bb:bench true" \
  -n 'docker CLI -> berthd' "docker -H unix://$BS run --rm bb:bench true" \
  -n 'docker CLI -> dockerd' "docker -H unix://$DS run --rm bb:bench true"

rss() { ps -o rss= -p "$1" | awk '{ s += $1 } END { print s }'; }
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1])).results;
const m = Object.fromEntries(r.map((x) => [x.command, x.median * 1000]));
const d = m["docker CLI -> dockerd"];
for (const k of Object.keys(m)) console.log(`${k.padEnd(24)} median ${m[k].toFixed(0)} ms  (${(m[k] / d).toFixed(2)}x of docker CLI -> dockerd)`);
const T = (...f) => console.log(["BENCH", ...f].join("\t"));
T("run --rm IMG true: berth CLI vs docker CLI -> dockerd", m["berth run"].toFixed(1), "docker -> dockerd", d.toFixed(1), "ms", "-");
T("run --rm IMG true: docker CLI -> berthd vs dockerd", m["docker CLI -> berthd"].toFixed(1), "docker -> dockerd", d.toFixed(1), "ms", "-");
console.log(`idle RSS: berthd ${process.argv[2]} kB, dockerd + containerd ${Number(process.argv[3]) + Number(process.argv[4])} kB`);
' "$WORK/h.json" "$(rss "$(cat "$WORK/berthd.pid")")" "$(rss "$DOCKERD")" "$(rss "$CONTAINERD")"

#!/usr/bin/env bash
# `docker build` (the classic builder, DOCKER_BUILDKIT=0) through Berth and through Debian's docker.io daemon
# on the same machine, the same busybox image and the same 20 MB context, in one hyperfine run per case:
# cold (--no-cache), fully cached, and after changing one copied file. Dockerfile: FROM, COPY of the
# context, two RUN steps, ENV, CMD. Goal: Berth at most half of dockerd's time in each.
# As root: bash bench/build.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
WORK=$(mktemp -d /tmp/berth-bench-build-XXXX)
BS=$WORK/berth.sock DS=$WORK/docker/docker.sock
. "$here/bench/peers.sh"
export DOCKER_BUILDKIT=0
for s in "$BS" "$DS"; do docker -H "unix://$s" import -c 'CMD ["sh"]' "$WORK/rootfs.tar" bb:bench >/dev/null; done

ctx=$WORK/ctx
mkdir -p "$ctx/data"
for i in $(seq 20); do head -c 1048576 /dev/urandom > "$ctx/data/blob$i"; done
echo 0 > "$ctx/changed.txt"
cat > "$ctx/Dockerfile" <<'D'
FROM bb:bench
COPY . /app
RUN cat /app/data/* > /dev/null && echo one > /one
RUN echo two > /two
ENV GREETING=hello
CMD ["sh"]
D
b="docker -H unix://$BS build -q -t bench:build $ctx"
d="docker -H unix://$DS build -q -t bench:build $ctx"
# one build each so that the cached case starts warm
$b >/dev/null; $d >/dev/null

hyperfine -N --warmup 1 --runs "$runs" --export-json "$WORK/cold.json" \
  -n 'berthd: cold build (--no-cache)' "$b --no-cache" -n 'dockerd: cold build (--no-cache)' "$d --no-cache"
hyperfine -N --warmup 1 --runs "$((runs * 2))" --export-json "$WORK/cached.json" \
  -n 'berthd: fully cached rebuild' "$b" -n 'dockerd: fully cached rebuild' "$d"
hyperfine --warmup 1 --runs "$runs" --export-json "$WORK/changed.json" --prepare "date +%s%N > $ctx/changed.txt" \
  -n 'berthd: rebuild after one changed file' "$b" -n 'dockerd: rebuild after one changed file' "$d"

node -e '
const fs = require("fs");
const names = { cold: "build cold", cached: "build fully cached", changed: "build one changed file" };
for (const f of process.argv.slice(1)) {
  const [b, d] = JSON.parse(fs.readFileSync(f)).results;
  const key = f.replace(/.*\//, "").replace(/\.json$/, "");
  console.log(`${b.command.replace(/^berthd: /, "").padEnd(40)} berthd ${(b.median * 1000).toFixed(0)} ms (${(b.min * 1000).toFixed(0)}-${(b.max * 1000).toFixed(0)}), dockerd ${(d.median * 1000).toFixed(0)} ms (${(d.min * 1000).toFixed(0)}-${(d.max * 1000).toFixed(0)}): ratio ${(b.median / d.median).toFixed(2)}`);
  console.log(["BENCH", names[key], b.median.toFixed(3), "dockerd", d.median.toFixed(3), "s", "<=0.5"].join("\t"));
}' "$WORK/cold.json" "$WORK/cached.json" "$WORK/changed.json"

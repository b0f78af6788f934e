#!/usr/bin/env bash
# `docker build` (the classic builder, DOCKER_BUILDKIT=0) through Berth and through Debian's docker.io daemon
# on the same machine, the same busybox image and the same 20 MB context, in interleaved rounds per case:
# cold (--no-cache), fully cached, and after changing one copied file. Dockerfile: FROM, COPY of the
# context, two RUN steps, ENV, CMD. Goal: Berth at most half of dockerd's time in each (medians of interleaved rounds).
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

# Interleaved rounds, berthd and dockerd back to back in each (the first alternates), so that the load of a
# shared machine falls on both alike; medians per case. hyperfine runs one command's runs in a row, which on a
# busy machine compares two different moments.
now() { date +%s%N; }
time_one() { local s; s=$(now); "$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }; echo $(( ($(now) - s) / 1000 )); }
round() { # case prepare-command: one berthd and one dockerd time (microseconds) appended to $WORK/<case>.{b,d}
  local c=$1 prep=$2 i=$3 args=${4:-}
  if [ $((i % 2)) -eq 0 ]; then
    eval "$prep"; time_one $b $args >> "$WORK/$c.b"; eval "$prep"; time_one $d $args >> "$WORK/$c.d"
  else
    eval "$prep"; time_one $d $args >> "$WORK/$c.d"; eval "$prep"; time_one $b $args >> "$WORK/$c.b"
  fi
}
for i in $(seq "$runs"); do round cold : "$i" --no-cache; done
for i in $(seq "$((runs * 2))"); do round cached : "$i"; done
for i in $(seq "$runs"); do round changed "date +%s%N > $ctx/changed.txt" "$i"; done

node -e '
const fs = require("fs");
const names = { cold: "build cold", cached: "build fully cached", changed: "build one changed file" };
const label = { cold: "cold build (--no-cache)", cached: "fully cached rebuild", changed: "rebuild after one changed file" };
const med = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const dir = process.argv[1];
for (const key of ["cold", "cached", "changed"]) {
  const [b, d] = ["b", "d"].map((w) => fs.readFileSync(`${dir}/${key}.${w}`, "utf8").trim().split("\n").map((v) => Number(v) / 1e6));
  const ms = (a) => `${(med(a) * 1000).toFixed(0)} ms (${(Math.min(...a) * 1000).toFixed(0)}-${(Math.max(...a) * 1000).toFixed(0)})`;
  console.log(`${label[key].padEnd(32)} berthd ${ms(b)}, dockerd ${ms(d)}, ${b.length} interleaved rounds: ratio ${(med(b) / med(d)).toFixed(2)}`);
  console.log(["BENCH", names[key], med(b).toFixed(3), "dockerd", med(d).toFixed(3), "s", "<=0.5"].join("\t"));
}' "$WORK"

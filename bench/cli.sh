#!/usr/bin/env bash
# The berth CLI's own start-up: `ps`, `run --rm IMG true`, `exec CTR true`, `logs CTR` and `inspect CTR`
# through the berth CLI and through the real docker CLI against the same berthd, next to `node -e 0`, in one
# hyperfine run per command. Berth's own time is its median minus node -e 0's (issue 13: under 20 ms).
# As root: bash bench/cli.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-30}
for t in hyperfine docker node; do command -v $t >/dev/null || { echo "bench: $t is missing (apt-get install hyperfine docker.io)" >&2; exit 1; }; done
WORK=$(mktemp -d /tmp/berth-bench-cli-XXXX)
BS=$WORK/berth.sock
cleanup() {
  docker -H "unix://$BS" rm -f cli1 >/dev/null 2>&1 || true
  kill "$(cat "$WORK/berthd.pid" 2>/dev/null)" 2>/dev/null || true
  sleep 1
  rm -rf "$WORK" 2>/dev/null || true
}
trap cleanup EXIT
node "$here/dist/bin/daemon/berthd.js" -H "unix://$BS" --root "$WORK/berth" --pidfile "$WORK/berthd.pid" >"$WORK/berthd.log" 2>&1 &
for _ in $(seq 100); do [ -S "$BS" ] && break; sleep 0.2; done
bash "$here/scripts/busybox-bundle.sh" "$WORK/bundle" >/dev/null
tar -C "$WORK/bundle/rootfs" -cf "$WORK/rootfs.tar" .
docker -H "unix://$BS" import -c 'CMD ["sh"]' "$WORK/rootfs.tar" bb:bench >/dev/null
docker -H "unix://$BS" run -d --network none --name cli1 bb:bench sh -c 'echo hello; exec sleep 100000' >/dev/null

berth="node $here/dist/bin/cli/berth.js -H unix://$BS"
docker="docker -H unix://$BS"
measures=('ps|ps' 'run|run --rm --network none bb:bench true' 'exec|exec cli1 true' 'logs|logs cli1' 'inspect|inspect cli1')
for m in "${measures[@]}"; do
  name=${m%%|*} args=${m#*|}
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$WORK/$name.json" \
    -n 'node -e 0' 'node -e 0' -n "berth $name" "$berth $args" -n "docker CLI $name" "$docker $args" >/dev/null
done

node -e '
const fs = require("fs");
const [dir, ...names] = process.argv.slice(1);
console.log("command   node -e 0   berth (own)        docker CLI   (medians, ms; own = berth - node -e 0)");
const bench = [];
for (const n of names) {
  const r = JSON.parse(fs.readFileSync(`${dir}/${n}.json`)).results.map((x) => x.median * 1000);
  const [node, berth, docker] = r;
  console.log(`${n.padEnd(9)} ${node.toFixed(0).padStart(9)}   ${berth.toFixed(0).padStart(5)} (${(berth - node).toFixed(1).padStart(6)})   ${docker.toFixed(0).padStart(10)}`);
  bench.push(["BENCH", `cli ${n}: berth CLI own start (ms above node -e 0)`, (berth - node).toFixed(1), "abs", "1", "ms", "<=20"].join("\t"));
}
console.log(bench.join("\n"));
' "$WORK" ps run exec logs inspect

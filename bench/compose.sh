#!/usr/bin/env bash
# `berth compose up -d` then `down` of a 5-service project (no build) against berthd, side by side with
# Debian's docker-compose 1.29 against dockerd, on the same busybox image, in one hyperfine run.
# As root: bash bench/compose.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-10}
WORK=$(mktemp -d /tmp/berth-bench-compose-XXXX)
BS=$WORK/berth.sock DS=$WORK/docker/docker.sock
berth="node $here/dist/bin/cli/berth.js"
mkdir -p "$WORK/proj"
. "$here/bench/peers.sh"
# peers.sh's cleanup, preceded by both projects' down (their networks and volumes are not in `docker rm`)
eval "peers_$(declare -f cleanup)"
cleanup() {
  (cd "$WORK/proj" 2>/dev/null && DOCKER_HOST=unix://$BS $berth compose -p bench down -v >/dev/null 2>&1) || true
  (cd "$WORK/proj" 2>/dev/null && DOCKER_HOST=unix://$DS docker-compose -p bench down -v >/dev/null 2>&1) || true
  peers_cleanup
}
command -v docker-compose >/dev/null || { echo "bench: docker-compose is missing (apt-get install docker-compose)" >&2; exit 1; }
DOCKER_HOST=unix://$BS docker import -c 'CMD ["sh"]' "$WORK/rootfs.tar" bb:bench >/dev/null
DOCKER_HOST=unix://$DS docker import -c 'CMD ["sh"]' "$WORK/rootfs.tar" bb:bench >/dev/null

# five services on the project network, one named volume; the version key keeps docker-compose 1.29 happy
{
  echo 'version: "3.8"'
  echo 'services:'
  for s in web api worker cache db; do
    printf '  %s:\n    image: bb:bench\n    command: ["sleep", "3600"]\n    stop_signal: SIGKILL\n' "$s"
  done
  printf '    volumes: ["data:/data"]\nvolumes:\n  data: {}\n'
} >"$WORK/proj/docker-compose.yml"

cd "$WORK/proj"
hyperfine -N --warmup 1 --runs "$runs" --export-json "$WORK/h.json" \
  -n 'berth compose -> berthd' "sh -c 'DOCKER_HOST=unix://$BS $berth compose -p bench up -d >/dev/null 2>&1 && DOCKER_HOST=unix://$BS $berth compose -p bench down -v >/dev/null 2>&1'" \
  -n 'docker-compose 1.29 -> dockerd' "sh -c 'DOCKER_HOST=unix://$DS docker-compose -p bench up -d >/dev/null 2>&1 && DOCKER_HOST=unix://$DS docker-compose -p bench down -v >/dev/null 2>&1'"

node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1])).results;
const m = Object.fromEntries(r.map((x) => [x.command, x.median * 1000]));
const b = m["berth compose -> berthd"], d = m["docker-compose 1.29 -> dockerd"];
console.log(`up -d + down -v, 5 services: berth compose ${b.toFixed(0)} ms, docker-compose+dockerd ${d.toFixed(0)} ms, ratio ${(b / d).toFixed(2)} (goal <= 0.33)`);
console.log(["BENCH", "compose up -d + down -v, 5 services", b.toFixed(0), "docker-compose 1.29 + dockerd", d.toFixed(0), "ms", "<=0.33"].join("\t"));
' "$WORK/h.json"

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
cleanup() {
  (cd "$WORK/proj" 2>/dev/null && DOCKER_HOST=unix://$BS $berth compose -p bench down -v >/dev/null 2>&1) || true
  (cd "$WORK/proj" 2>/dev/null && DOCKER_HOST=unix://$DS docker-compose -p bench down -v >/dev/null 2>&1) || true
  kill "$(cat "$WORK/berthd.pid" 2>/dev/null)" 2>/dev/null || true
  [ -n "${DOCKERD:-}" ] && kill "$DOCKERD" 2>/dev/null || true
  [ -n "${CONTAINERD:-}" ] && kill "$CONTAINERD" 2>/dev/null || true
  sleep 1
  umount -R "$WORK"/docker/root/overlay2/*/merged 2>/dev/null || true
  rm -rf "$WORK" 2>/dev/null || true
}
trap cleanup EXIT
for t in hyperfine docker dockerd containerd docker-compose; do command -v $t >/dev/null || { echo "bench: $t is missing (apt-get install hyperfine docker.io containerd docker-compose)" >&2; exit 1; }; done

mkdir -p "$WORK/containerd" "$WORK/docker" "$WORK/proj"
containerd --root "$WORK/containerd/root" --state "$WORK/containerd/state" --address "$WORK/containerd/sock" >"$WORK/containerd.log" 2>&1 &
CONTAINERD=$!
sleep 1
dockerd --containerd "$WORK/containerd/sock" --data-root "$WORK/docker/root" --exec-root "$WORK/docker/exec" --pidfile "$WORK/docker/pid" \
  -H "unix://$DS" --iptables=false --ip6tables=false --storage-driver=overlay2 >"$WORK/dockerd.log" 2>&1 &
DOCKERD=$!
node "$here/dist/bin/daemon/berthd.js" -H "unix://$BS" --root "$WORK/berth" --pidfile "$WORK/berthd.pid" >"$WORK/berthd.log" 2>&1 &
for _ in $(seq 100); do [ -S "$BS" ] && [ -S "$DS" ] && break; sleep 0.2; done

bash "$here/scripts/busybox-bundle.sh" "$WORK/bundle" >/dev/null
tar -C "$WORK/bundle/rootfs" -cf "$WORK/rootfs.tar" .
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
' "$WORK/h.json"

#!/usr/bin/env bash
# `docker stats --no-stream` over 20 running containers and `docker exec CTR true`, through Berth and
# through Debian's docker.io daemon on the same machine and the same busybox image, in one hyperfine run
# each; ratios against dockerd. dockerd answers stats=false only after a second sample a second later;
# berthd pairs the sample with a cached or a 100 ms older one. As root: bash bench/toolbox.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-10}
N=20
WORK=$(mktemp -d /tmp/berth-bench-toolbox-XXXX)
BS=$WORK/berth.sock DS=$WORK/docker/docker.sock
cleanup() {
  DOCKER_HOST=unix://$BS docker rm -f $(DOCKER_HOST=unix://$BS docker ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  DOCKER_HOST=unix://$DS docker rm -f $(DOCKER_HOST=unix://$DS docker ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  kill "$(cat "$WORK/berthd.pid" 2>/dev/null)" 2>/dev/null || true
  [ -n "${DOCKERD:-}" ] && kill "$DOCKERD" 2>/dev/null || true
  [ -n "${CONTAINERD:-}" ] && kill "$CONTAINERD" 2>/dev/null || true
  sleep 1
  umount -R "$WORK"/docker/root/overlay2/*/merged 2>/dev/null || true
  rm -rf "$WORK" 2>/dev/null || true
}
trap cleanup EXIT
for t in hyperfine docker dockerd containerd; do command -v $t >/dev/null || { echo "bench: $t is missing (apt-get install hyperfine docker.io containerd)" >&2; exit 1; }; done

mkdir -p "$WORK/containerd" "$WORK/docker"
containerd --root "$WORK/containerd/root" --state "$WORK/containerd/state" --address "$WORK/containerd/sock" >"$WORK/containerd.log" 2>&1 &
CONTAINERD=$!
sleep 1
dockerd --containerd "$WORK/containerd/sock" --data-root "$WORK/docker/root" --exec-root "$WORK/docker/exec" --pidfile "$WORK/docker/pid" \
  -H "unix://$DS" --iptables=false --ip6tables=false --bridge=none --storage-driver=overlay2 >"$WORK/dockerd.log" 2>&1 &
DOCKERD=$!
node "$here/dist/bin/daemon/berthd.js" -H "unix://$BS" --root "$WORK/berth" --pidfile "$WORK/berthd.pid" >"$WORK/berthd.log" 2>&1 &
for _ in $(seq 100); do [ -S "$BS" ] && [ -S "$DS" ] && break; sleep 0.2; done

# the same image in both: a busybox rootfs imported as bb:bench
bash "$here/scripts/busybox-bundle.sh" "$WORK/bundle" >/dev/null
tar -C "$WORK/bundle/rootfs" -cf "$WORK/rootfs.tar" .
for s in "$BS" "$DS"; do
  docker -H "unix://$s" import -c 'CMD ["sh"]' "$WORK/rootfs.tar" bb:bench >/dev/null
  for i in $(seq $N); do docker -H "unix://$s" run -d --network none --name "t$i" bb:bench sleep 100000 >/dev/null; done
done

hyperfine -N --warmup 2 --runs "$runs" --export-json "$WORK/stats.json" \
  -n "berthd: docker stats --no-stream ($N)" "docker -H unix://$BS stats --no-stream" \
  -n "dockerd: docker stats --no-stream ($N)" "docker -H unix://$DS stats --no-stream"
hyperfine -N --warmup 3 --runs "$((runs * 3))" --export-json "$WORK/exec.json" \
  -n 'berthd: docker exec CTR true' "docker -H unix://$BS exec t1 true" \
  -n 'dockerd: docker exec CTR true' "docker -H unix://$DS exec t1 true"

node -e '
const fs = require("fs");
for (const f of process.argv.slice(1)) {
  const [b, d] = JSON.parse(fs.readFileSync(f)).results;
  console.log(`${b.command.replace(/^berthd: /, "").padEnd(34)} berthd ${(b.median * 1000).toFixed(0)} ms, dockerd ${(d.median * 1000).toFixed(0)} ms: ${(d.median / b.median).toFixed(2)}x faster`);
}' "$WORK/stats.json" "$WORK/exec.json"

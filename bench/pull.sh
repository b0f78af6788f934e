#!/usr/bin/env bash
# bench/pull.sh: pull a ~200 MB Debian minbase image from a local docker-registry with
#   berth image pull (fresh store every run)  vs  curl | gzip -d | tar -x (the lower bound)
#   vs  docker pull through Debian's docker.io daemon (skipped with a note if it cannot start).
# Needs root, debootstrap, docker-registry, skopeo, hyperfine; docker.io + containerd optional.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
CACHE=${BERTH_BENCH_CACHE:-/var/tmp/berth-bench}
WORK=$(mktemp -d /var/tmp/berth-bench-run.XXXXXX)
PIDS=()
cleanup() {
  set +e +o pipefail
  # dockerd first, then containerd, then the registry; wait for each so nothing writes under $WORK after rm
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    p=${PIDS[$i]}
    kill "$p" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  grep -o " $WORK[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$WORK" || { sleep 1; rm -rf "$WORK"; } || echo "bench/pull.sh: could not remove $WORK" >&2
}
trap cleanup EXIT

for t in debootstrap docker-registry skopeo hyperfine curl; do
  command -v "$t" >/dev/null || { echo "bench/pull.sh: needs $t (apt-get install $t)" >&2; exit 1; }
done
[ -f dist/src/cli/berth.js ] || npx tsc -p .

# 1. the rootfs, built once and cached
if [ ! -d "$CACHE/rootfs" ]; then
  mkdir -p "$CACHE"
  rm -rf "$CACHE/rootfs.tmp"
  debootstrap --variant=minbase bookworm "$CACHE/rootfs.tmp" http://deb.debian.org/debian >"$CACHE/debootstrap.log"
  mv "$CACHE/rootfs.tmp" "$CACHE/rootfs"
fi
if [ ! -f "$CACHE/layer.tar.gz" ]; then
  tar --sort=name --numeric-owner --xattrs -C "$CACHE/rootfs" -cf - . | gzip -n >"$CACHE/layer.tar.gz.tmp"
  mv "$CACHE/layer.tar.gz.tmp" "$CACHE/layer.tar.gz"
fi
echo "rootfs: $(du -sh "$CACHE/rootfs" | cut -f1), layer blob: $(du -h "$CACHE/layer.tar.gz" | cut -f1)"

# 2. a local registry with the image
PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
REG=127.0.0.1:$PORT
cat >"$WORK/registry.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $WORK/registry}}
http: {addr: $REG}
YML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "http://$REG/v2/" >/dev/null && break; sleep 0.1; done
LAYOUT=$(node bench/pull-setup.mjs "$CACHE/layer.tar.gz" "$WORK/oci")
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$WORK/oci:minbase" "docker://$REG/bench/debian:minbase"
BLOB=$(skopeo inspect --tls-verify=false --raw "docker://$REG/bench/debian:minbase" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).layers[0].digest))')
IMAGE=$REG/bench/debian:minbase
echo "image: $IMAGE layer $BLOB"

CMDS=(
  -n "curl | gzip -d | tar -x" --prepare "rm -rf $WORK/x && mkdir $WORK/x && sync" "curl -sf http://$REG/v2/bench/debian/blobs/$BLOB | gzip -d | tar -x -C $WORK/x"
  -n "berth image pull" --prepare "rm -rf $WORK/berth && sync" "BERTH_ROOT=$WORK/berth node dist/src/cli/berth.js image pull -q $IMAGE"
)

# 3. docker, if its daemon starts here
DOCKER_NOTE=""
if command -v dockerd >/dev/null && command -v containerd >/dev/null && command -v docker >/dev/null; then
  mkdir -p "$WORK/containerd" "$WORK/docker"
  containerd --root "$WORK/containerd/root" --state "$WORK/containerd/state" --address "$WORK/containerd/sock" >"$WORK/containerd.log" 2>&1 &
  PIDS+=($!)
  dockerd --containerd "$WORK/containerd/sock" --data-root "$WORK/docker/root" --exec-root "$WORK/docker/exec" \
    --pidfile "$WORK/docker/pid" -H "unix://$WORK/docker/sock" --insecure-registry "$REG" \
    --iptables=false --ip6tables=false --bridge=none --storage-driver=overlay2 >"$WORK/dockerd.log" 2>&1 &
  PIDS+=($!)
  export DOCKER_HOST="unix://$WORK/docker/sock"
  for _ in $(seq 100); do docker version >/dev/null 2>&1 && break; sleep 0.2; done
  if docker version >/dev/null 2>&1 && docker pull -q "$IMAGE" >/dev/null 2>&1; then
    CMDS+=(-n "docker pull" --prepare "docker rmi -f $IMAGE >/dev/null 2>&1; sync" "docker pull -q $IMAGE")
  else
    DOCKER_NOTE="docker pull skipped: the daemon did not start or could not pull (see $WORK/dockerd.log): $(tail -3 "$WORK/dockerd.log" | tr '\n' ' ')"
  fi
else
  DOCKER_NOTE="docker pull skipped: dockerd/containerd not installed (apt-get install docker.io containerd)"
fi

hyperfine --warmup 1 --runs "$RUNS" --export-json "$WORK/result.json" "${CMDS[@]}"
[ -n "$DOCKER_NOTE" ] && echo "$DOCKER_NOTE"
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
const by = Object.fromEntries(r.map((x) => [x.command, x.mean]));
const pipe = by["curl | gzip -d | tar -x"], berth = by["berth image pull"], docker = by["docker pull"];
console.log(`berth / pipeline = ${(berth / pipe).toFixed(2)}x (goal <= 1.3x)`);
if (docker) console.log(`docker / berth = ${(docker / berth).toFixed(2)}x (goal >= 2.5x)`);
' "$WORK/result.json"

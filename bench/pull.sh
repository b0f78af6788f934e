#!/usr/bin/env bash
# bench/pull.sh: one ~200 MB Debian minbase image (one gzipped layer made by GNU tar) in a local
# docker-registry, then side by side in one hyperfine run:
#   curl | gzip -d | tar -x (the pipeline bound), `docker pull` through berthd and through Debian's dockerd,
#   `docker load` of the same image (a `docker save` archive) into berthd and into dockerd.
# Every run starts from an empty store (rmi -f, which drops the layers on both). Prints one BENCH line per
# measure for bench/all.sh. Needs root, debootstrap, docker-registry, skopeo, hyperfine, docker.io, containerd.
# usage: bash bench/pull.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
RUNS=${1:-${RUNS:-5}}
CACHE=${BERTH_BENCH_CACHE:-/var/tmp/berth-bench}
WORK=$(mktemp -d /var/tmp/berth-bench-pull.XXXXXX)
BS=$WORK/berth.sock DS=$WORK/docker/docker.sock
for t in debootstrap docker-registry skopeo curl; do
  command -v "$t" >/dev/null || { echo "bench/pull.sh: needs $t (apt-get install $t)" >&2; exit 1; }
done
[ -f dist/bin/daemon/berthd.js ] || npm run build

# 1. the rootfs and its layer, built once and cached
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

# 2. dockerd + berthd (bench/peers.sh) and a local registry; 127.0.0.0/8 is an insecure registry to both
. "$here/bench/peers.sh"
peers_cleanup() { [ -n "${REGISTRY:-}" ] && kill "$REGISTRY" 2>/dev/null; cleanup; }
trap peers_cleanup EXIT
PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
REG=127.0.0.1:$PORT
cat >"$WORK/registry.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $WORK/registry}}
http: {addr: $REG}
YML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY=$!
for _ in $(seq 100); do curl -sf "http://$REG/v2/" >/dev/null && break; sleep 0.1; done
node bench/pull-setup.mjs "$CACHE/layer.tar.gz" "$WORK/oci" >/dev/null
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$WORK/oci:minbase" "docker://$REG/bench/debian:minbase"
BLOB=$(skopeo inspect --tls-verify=false --raw "docker://$REG/bench/debian:minbase" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).layers[0].digest))')
IMAGE=$REG/bench/debian:minbase
echo "image: $IMAGE layer $BLOB"
DOCKER_HOST=unix://$DS docker pull -q "$IMAGE" >/dev/null
DOCKER_HOST=unix://$DS docker save -o "$WORK/image.tar" "$IMAGE"
DOCKER_HOST=unix://$DS docker rmi -f "$IMAGE" >/dev/null

B="docker -H unix://$BS" D="docker -H unix://$DS"
hyperfine --warmup 1 --runs "$RUNS" --export-json "$WORK/result.json" \
  -n pipeline --prepare "rm -rf $WORK/x && mkdir $WORK/x && sync" "curl -sf http://$REG/v2/bench/debian/blobs/$BLOB | gzip -d | tar -x -C $WORK/x" \
  -n 'pull berthd' --prepare "$B rmi -f $IMAGE >/dev/null 2>&1; sync" "$B pull -q $IMAGE" \
  -n 'pull dockerd' --prepare "$D rmi -f $IMAGE >/dev/null 2>&1; sync" "$D pull -q $IMAGE" \
  -n 'load berthd' --prepare "$B rmi -f $IMAGE >/dev/null 2>&1; sync" "$B load -q -i $WORK/image.tar" \
  -n 'load dockerd' --prepare "$D rmi -f $IMAGE >/dev/null 2>&1; sync" "$D load -q -i $WORK/image.tar"

node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
const m = Object.fromEntries(r.map((x) => [x.command, x]));
const rng = (x) => `${x.min.toFixed(2)}-${x.max.toFixed(2)} s`;
for (const x of r) console.log(`${x.command.padEnd(14)} mean ${x.mean.toFixed(2)} s  range ${rng(x)}`);
const row = (name, b, pn, p, goal) => {
  console.log(`${name}: berthd ${b.mean.toFixed(2)} s, ${pn} ${p.mean.toFixed(2)} s, ratio ${(b.mean / p.mean).toFixed(2)} (goal ${goal})`);
  console.log(["BENCH", name, b.mean.toFixed(3), pn, p.mean.toFixed(3), "s", goal].join("\t"));
};
row("docker pull 200MB debian", m["pull berthd"], "dockerd", m["pull dockerd"], "<=0.4");
row("docker pull vs curl|gunzip|tar", m["pull berthd"], "curl|gunzip|tar", m["pipeline"], "<=1.2");
row("docker load 200MB debian", m["load berthd"], "dockerd", m["load dockerd"], "<=0.5");
' "$WORK/result.json"

# bench/peers.sh, sourced after WORK, BS, DS and here are set: starts containerd + Debian's dockerd (no bridge,
# no iptables) and berthd side by side on sockets of their own, removes it all on exit, and makes
# $WORK/rootfs.tar (busybox) for both to import.
cleanup() {
  DOCKER_HOST=unix://$BS docker rm -f $(DOCKER_HOST=unix://$BS docker ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  DOCKER_HOST=unix://$DS docker rm -f $(DOCKER_HOST=unix://$DS docker ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  kill "$(cat "$WORK/berthd.pid" 2>/dev/null)" 2>/dev/null || true
  [ -n "${DOCKERD:-}" ] && kill "$DOCKERD" 2>/dev/null || true
  [ -n "${CONTAINERD:-}" ] && kill "$CONTAINERD" 2>/dev/null || true
  sleep 1
  for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^(bb|v)${BTAG:-none}" || true); do ip link del "$l" 2>/dev/null || true; done
  nft delete table ip "berth_b${BTAG:-none}" 2>/dev/null || true
  umount -R "$WORK"/docker/root/overlay2/*/merged 2>/dev/null || true
  umount -R "$WORK/docker/root" 2>/dev/null || true # dockerd bind-mounts its own data root
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
# a bridge, nft table and user-bridge prefix of this run's own: benches may run side by side, and none touches berth0
BTAG=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
BERTH_NET_ARGS="--bridge bb$BTAG --nft-table berth_b$BTAG --bridge-prefix v$BTAG"
node "$here/dist/bin/daemon/berthd.js" -H "unix://$BS" --root "$WORK/berth" --pidfile "$WORK/berthd.pid" $BERTH_NET_ARGS >"$WORK/berthd.log" 2>&1 &
for _ in $(seq 100); do [ -S "$BS" ] && [ -S "$DS" ] && break; sleep 0.2; done

# the same image in both: a busybox rootfs imported as bb:bench
bash "$here/scripts/busybox-bundle.sh" "$WORK/bundle" >/dev/null
tar -C "$WORK/bundle/rootfs" -cf "$WORK/rootfs.tar" .

# bench/peers.sh, sourced after WORK, BS, DS and here are set: starts containerd + Debian's dockerd (by default
# with no bridge, no iptables) and berthd side by side on sockets of their own, removes it all on exit, and makes
# $WORK/rootfs.tar (busybox) for both to import.
# PEERS_NETNS=1: all three run in a network namespace of the bench's own, where dockerd has its default
# bridge (docker0) and iptables as users have them and berthd its default bridge: for benches of
# `docker run` as users run it; the namespace, and every bridge, veth and rule in it, goes on exit.
NS= RUN=()
if [ -n "${PEERS_NETNS:-}" ]; then
  NS=berthpeers$$
  # nsenter, not `ip netns exec`: that one remounts /sys, and the daemons need the host's cgroup mounts
  RUN=(nsenter --net="/run/netns/$NS")
fi
# The daemons run in a session of their own (setsid): a signal to the bench's process group (Ctrl-C, a job killed
# with `kill -- -PGID`) reaches the script alone, whose EXIT trap removes the containers while berthd still answers,
# then stops the daemons. When they shared the group, berthd left on the same signal before `docker rm -f` reached
# it: its containers stayed, running, with their monitors, mounts and cgroups (seen: 2 of 3 runs of a bench killed
# with SIGTERM). A script killed with SIGKILL runs no trap: a watcher of its own session runs the same cleanup then.
cleanup() {
  [ -z "${PEERS_WATCHER:-}" ] || kill -KILL "$PEERS_WATCHER" 2>/dev/null || true # it ignores TERM
  DOCKER_HOST=unix://$BS docker rm -f $(DOCKER_HOST=unix://$BS docker ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  DOCKER_HOST=unix://$DS docker rm -f $(DOCKER_HOST=unix://$DS docker ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  local pids
  pids="$(cat "$WORK/berthd.pid" 2>/dev/null) ${DOCKERD:-} ${CONTAINERD:-}"
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  # until they are gone (berthd takes up to 5 s), not a fixed second: their bridge, table and files go next
  for _ in $(seq 100); do
    local alive=
    for p in $pids; do grep -qs '^State:[[:space:]]*[^Z]' "/proc/$p/status" && alive=1; done # a zombie is gone
    [ -n "$alive" ] || break
    sleep 0.1
  done
  for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^(bb|v)${BTAG:-none}" || true); do ip link del "$l" 2>/dev/null || true; done
  nft delete table ip "berth_b${BTAG:-none}" 2>/dev/null || true
  [ -z "$NS" ] || ip netns del "$NS" 2>/dev/null || true
  umount -R "$WORK"/docker/root/overlay2/*/merged 2>/dev/null || true
  umount -R "$WORK/docker/root" 2>/dev/null || true # dockerd bind-mounts its own data root
  rm -rf "$WORK" 2>/dev/null || true
}
trap cleanup EXIT
for t in hyperfine docker dockerd containerd; do command -v $t >/dev/null || { echo "bench: $t is missing (apt-get install hyperfine docker.io containerd)" >&2; exit 1; }; done

mkdir -p "$WORK/containerd" "$WORK/docker"
DOCKERD_NET_ARGS="--iptables=false --ip6tables=false --bridge=none"
if [ -n "$NS" ]; then ip netns add "$NS" && "${RUN[@]}" ip link set lo up; DOCKERD_NET_ARGS=--ip6tables=false; fi
setsid "${RUN[@]}" containerd --root "$WORK/containerd/root" --state "$WORK/containerd/state" --address "$WORK/containerd/sock" >"$WORK/containerd.log" 2>&1 &
CONTAINERD=$!
sleep 1
setsid "${RUN[@]}" dockerd --containerd "$WORK/containerd/sock" --data-root "$WORK/docker/root" --exec-root "$WORK/docker/exec" --pidfile "$WORK/docker/pid" \
  -H "unix://$DS" $DOCKERD_NET_ARGS --storage-driver=overlay2 >"$WORK/dockerd.log" 2>&1 &
DOCKERD=$!
# a bridge, nft table and user-bridge prefix of this run's own: benches may run side by side, and none touches berth0
BTAG=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
BERTH_NET_ARGS="--bridge bb$BTAG --nft-table berth_b$BTAG --bridge-prefix v$BTAG"
setsid "${RUN[@]}" "$here/dist/bin/daemon/berthd.js" -H "unix://$BS" --root "$WORK/berth" --pidfile "$WORK/berthd.pid" $BERTH_NET_ARGS >"$WORK/berthd.log" 2>&1 &
for _ in $(seq 100); do [ -S "$BS" ] && [ -S "$DS" ] && break; sleep 0.2; done
# the watcher: once this shell is gone without its trap having stopped the watcher, the same cleanup
PEERS_SHELL=$$ WORK=$WORK BS=$BS DS=$DS DOCKERD=$DOCKERD CONTAINERD=$CONTAINERD BTAG=$BTAG NS=$NS \
  setsid bash -c "$(declare -f cleanup)"'
    trap "" INT TERM HUP
    while [ -d "/proc/$PEERS_SHELL" ]; do sleep 1; done
    cleanup' >/dev/null 2>&1 </dev/null &
PEERS_WATCHER=$!
disown "$PEERS_WATCHER" 2>/dev/null || true # no "Killed" line when the trap stops it

# the same image in both: a busybox rootfs imported as bb:bench
bash "$here/scripts/busybox-bundle.sh" "$WORK/bundle" >/dev/null
tar -C "$WORK/bundle/rootfs" -cf "$WORK/rootfs.tar" .

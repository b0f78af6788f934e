# bench/peers.sh, sourced after WORK, BS, DS and here are set: starts containerd + Debian's dockerd (by default
# with no bridge, no iptables) and berthd side by side on sockets of their own, removes it all on exit, and makes
# $WORK/rootfs.tar (busybox) for both to import. Every bench starts berthd here, dockerd or not: the daemons run
# under setsid with a watcher (below), so a bench killed any way leaves no daemon, container, bridge or rule.
# PEERS_NETNS=1: all three run in a network namespace of the bench's own, where dockerd has its default
# bridge (docker0) and iptables as users have them and berthd its default bridge: for benches of
# `docker run` as users run it; the namespace, and every bridge, veth and rule in it, goes on exit.
# PEERS_DOCKERD=0: berthd alone (DS unused). PEERS_BERTHD_ARGS: more berthd flags (--debug, --exec-root …);
# PEERS_BERTHD_ENV: VAR=value words for its environment (BERTH_DEBUG=1); BERTHD_NODE_ARGS: node flags
# (--cpu-prof …), put after the entry's hashbang command; BERTHD_ENTRY: another berthd entry.
# peers_cleanup_hook, when the bench defines it (and PEERS_HOOK_VARS names the variables it reads), runs
# last in the cleanup, the watcher's too.
# peers_start_dockerd [FLAGS] / peers_stop_dockerd: dockerd again with other flags (containerd stays).
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
  # it ignores TERM; its group (setsid) has its `sleep 1` too, which would hold the bench's cgroup a second
  [ -z "${PEERS_WATCHER:-}" ] || kill -KILL -- "-$PEERS_WATCHER" 2>/dev/null || true
  DOCKER_HOST=unix://$BS docker rm -f $(DOCKER_HOST=unix://$BS docker ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  [ -z "$DS" ] || DOCKER_HOST=unix://$DS docker rm -f $(DOCKER_HOST=unix://$DS docker ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  local pids=${DOCKERD:-} f
  # by their pid files, one at a time (dockerd's has no newline): the watcher knows no pid, and a bench may
  # have started another dockerd
  for f in "$WORK/berthd.pid" "$WORK/docker/pid" "$WORK/containerd.pid"; do if [ -s "$f" ]; then pids="$pids $(cat "$f")"; fi; done
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
  # whatever is still mounted below WORK (dockerd's overlays and its data root bound on itself, a bench's
  # tmpfs), deepest first
  for m in $(awk -v w="$WORK/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do umount -l "$m" 2>/dev/null || true; done
  ! declare -F peers_cleanup_hook >/dev/null || peers_cleanup_hook
  rm -rf "$WORK" 2>/dev/null || true
}
trap cleanup EXIT
[ "${PEERS_DOCKERD:-1}" = 0 ] && DS=
peers_tools="docker"; [ -z "$DS" ] || peers_tools="hyperfine docker dockerd containerd"
for t in $peers_tools; do command -v $t >/dev/null || { echo "bench: $t is missing (apt-get install hyperfine docker.io containerd)" >&2; exit 1; }; done

mkdir -p "$WORK/containerd" "$WORK/docker"
# a bridge, nft table and user-bridge prefix of this run's own: benches may run side by side, and none touches berth0
BTAG=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
# the watcher, before any daemon starts: once this shell is gone without its trap having stopped the watcher,
# the same cleanup (it finds the daemons by their pid files)
PEERS_SHELL=$$ WORK=$WORK BS=$BS DS=$DS BTAG=$BTAG NS=$NS \
  setsid bash -c "$(declare -f cleanup peers_cleanup_hook 2>/dev/null; [ -z "${PEERS_HOOK_VARS:-}" ] || declare -p $PEERS_HOOK_VARS)"'
    trap "" INT TERM HUP
    while [ -d "/proc/$PEERS_SHELL" ]; do sleep 1; done
    cleanup' >/dev/null 2>&1 </dev/null &
PEERS_WATCHER=$!
disown "$PEERS_WATCHER" 2>/dev/null || true # no "Killed" line when the trap stops it

DOCKERD_NET_ARGS="--iptables=false --ip6tables=false --bridge=none"
if [ -n "$NS" ]; then ip netns add "$NS" && "${RUN[@]}" ip link set lo up; DOCKERD_NET_ARGS=--ip6tables=false; fi
CONTAINERD= DOCKERD=
peers_start_dockerd() { # more dockerd flags; returns once it answers
  setsid "${RUN[@]}" dockerd --containerd "$WORK/containerd/sock" --data-root "$WORK/docker/root" --exec-root "$WORK/docker/exec" --pidfile "$WORK/docker/pid" \
    -H "unix://$DS" $DOCKERD_NET_ARGS --storage-driver=overlay2 "$@" >>"$WORK/dockerd.log" 2>&1 &
  DOCKERD=$!
  for _ in $(seq 150); do docker -H "unix://$DS" version >/dev/null 2>&1 && return; sleep 0.2; done
  echo "bench: dockerd did not start: $(tail -5 "$WORK/dockerd.log")" >&2; exit 1
}
peers_stop_dockerd() { # its containers first (as cleanup); then until it is gone
  docker -H "unix://$DS" rm -f $(docker -H "unix://$DS" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  kill "$DOCKERD" 2>/dev/null || true
  for _ in $(seq 150); do grep -qs '^State:[[:space:]]*[^Z]' "/proc/$DOCKERD/status" || break; sleep 0.1; done
  DOCKERD=
}
if [ -n "$DS" ]; then
  setsid "${RUN[@]}" containerd --root "$WORK/containerd/root" --state "$WORK/containerd/state" --address "$WORK/containerd/sock" >"$WORK/containerd.log" 2>&1 &
  CONTAINERD=$!
  echo "$CONTAINERD" >"$WORK/containerd.pid"
  for _ in $(seq 50); do [ -S "$WORK/containerd/sock" ] && break; sleep 0.2; done
  peers_start_dockerd &
  peers_dockerd_up=$!
  # in the namespace both make a default bridge: berthd comes second and picks a subnet beside docker0's
  if [ -n "$NS" ]; then wait "$peers_dockerd_up" || exit 1; peers_dockerd_up=; fi
fi
BERTH_NET_ARGS="--bridge bb$BTAG --nft-table berth_b$BTAG --bridge-prefix v$BTAG"
# the entry as a program (its hashbang line carries settings, src/daemon/berthd.ts); with node flags, its
# hashbang command with them after it (node refuses --cpu-prof in NODE_OPTIONS)
peers_entry=${BERTHD_ENTRY:-$here/dist/bin/daemon/berthd.js}
BERTHD_CMD=("$peers_entry")
if [ -n "${BERTHD_NODE_ARGS:-}" ]; then
  peers_hashbang=$(head -1 "$peers_entry")
  read -ra BERTHD_CMD <<< "${peers_hashbang#\#!/usr/bin/env -S } $BERTHD_NODE_ARGS $peers_entry"
fi
setsid "${RUN[@]}" env ${PEERS_BERTHD_ENV:-} "${BERTHD_CMD[@]}" -H "unix://$BS" --root "$WORK/berth" --pidfile "$WORK/berthd.pid" $BERTH_NET_ARGS ${PEERS_BERTHD_ARGS:-} >>"$WORK/berthd.log" 2>&1 &
for _ in $(seq 100); do [ -S "$BS" ] && break; sleep 0.2; done
[ -S "$BS" ] || { echo "bench: berthd did not start: $(tail -5 "$WORK/berthd.log")" >&2; exit 1; }
# dockerd's start (in a subshell: its pid is read from its pid file)
if [ -n "$DS" ]; then
  [ -z "$peers_dockerd_up" ] || wait "$peers_dockerd_up" || exit 1
  DOCKERD=$(cat "$WORK/docker/pid")
fi
# the same image in both: a busybox rootfs imported as bb:bench
bash "$here/scripts/busybox-bundle.sh" "$WORK/bundle" >/dev/null
tar -C "$WORK/bundle/rootfs" -cf "$WORK/rootfs.tar" .

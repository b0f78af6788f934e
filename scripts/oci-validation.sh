#!/bin/sh
# Runs the OCI runtime-tools validation programs (validation/*.t) against runc and against `berth runtime`,
# side by side, and prints per program the passed/failed TAP counts for each. Needs root, Go (Debian's
# golang-go) and runc. The runtime-tools source is never committed: it is copied from a fetched mirror
# (a bare git dir) into a work dir under /tmp and built there offline from its vendor/ dir.
#   usage: sudo scripts/oci-validation.sh [PROGRAM-SUBSTRING]
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
MIRROR=${RUNTIME_TOOLS_MIRROR:-/work/.mirror/opencontainers+runtime-tools/repo}
FILTER=${1:-}
PER_TEST_TIMEOUT=${PER_TEST_TIMEOUT:-120}

if [ ! -d "$MIRROR" ]; then
  echo "no runtime-tools mirror at $MIRROR: fetch github:opencontainers/runtime-tools (the agent fetch tool) or set RUNTIME_TOOLS_MIRROR to a bare git dir of it" >&2
  exit 2
fi
command -v go >/dev/null || { echo "needs Go: apt-get install -y golang-go" >&2; exit 2; }
command -v runc >/dev/null || { echo "needs runc: scripts/install-deps.sh --test" >&2; exit 2; }
[ -f "$REPO/dist/bin/cli/berth.js" ] || { echo "build Berth first: npm run build" >&2; exit 2; }

W=$(mktemp -d /tmp/oci-validation.XXXXXX)
# Debian 12 ships Go 1.19; runtime-tools after c2dadba (moby/sys/capability) needs Go >= 1.21
REF=${RUNTIME_TOOLS_REF:-c2dadba~1}
git --git-dir="$MIRROR" archive "$REF" | tar -x -C "$W"
cd "$W"
export GOFLAGS=-mod=vendor GOPROXY=off GOCACHE="$W/.gocache" CGO_ENABLED=0
go build -tags "netgo osusergo" -o runtimetest ./cmd/runtimetest
for src in validation/*/*.go validation/*.go; do
  [ -f "$src" ] || continue
  case "$src" in *util*) continue ;; esac
  case "$src" in *"$FILTER"*) ;; *) continue ;; esac
  go build -o "${src%.go}.t" "$src"
done

# `berth runtime` with a state root of this run's own (runs may overlap), as the RUNTIME the programs call
STATE=/run/berth-oci-validation.${W##*.}
cat > "$W/berth-runtime" <<WRAP
#!/bin/sh
exec node "$REPO/dist/bin/cli/berth.js" runtime --root $STATE "\$@"
WRAP
chmod +x "$W/berth-runtime"

tally() { # RUNTIME PROGRAM -> "passed failed exit-status"
  # The *_fail programs print the TAP of a run that should not have happened and say so only by their
  # exit status, so the status counts as much as the "not ok" lines.
  rc=0
  out=$(TMPDIR="$W/tmp" RUNTIME="$1" timeout "$PER_TEST_TIMEOUT" "./$2" 2>/dev/null) || rc=$?
  p=$(printf '%s\n' "$out" | grep -c '^ok ' || true)
  f=$(printf '%s\n' "$out" | grep -c '^not ok ' || true)
  echo "$p $f $rc"
}

# The programs make their bundles with Go's os.MkdirTemp and leave them behind, and a container without a
# mount namespace (linux_ns_*) leaves runc's rootfs, /proc, /dev … mounted on the host: all of it goes under
# $W/tmp and is unmounted and removed at the end. 0755 on the way: a container in a user namespace
# (linux_ns_nopath) reaches its rootfs as an unprivileged uid.
mkdir -p "$W/tmp"; chmod 0755 "$W" "$W/tmp"
cleanup_tmp() {
  awk -v t="$W/tmp/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" || true; done
  # the state root: only the compiled seccomp cache may stay; a container left there keeps it (and shows)
  rm -rf "$W/tmp" "$STATE/@seccomp"; rmdir "$STATE" 2>/dev/null || true
}
trap cleanup_tmp EXIT

printf '%-55s %14s %14s %s\n' program 'runc ok/nok/rc' 'berth ok/nok/rc' verdict
worse=0
for t in $(find validation -name '*.t' | sort); do
  set -- $(tally runc "$t"); rp=$1 rf=$2 rr=$3
  set -- $(tally "$W/berth-runtime" "$t"); bp=$1 bf=$2 br=$3
  # worse: more failed checks than runc, or a failing exit where runc's succeeded. (Fewer "ok" lines
  # alone is no verdict: where runc cannot run a program at all, e.g. rlimits above this host's hard
  # limit, it prints none and fails by its status.)
  v=ok
  if [ "$bf" -gt "$rf" ] || { [ "$br" -ne 0 ] && [ "$rr" -eq 0 ]; }; then v=WORSE; worse=$((worse + 1)); fi
  printf '%-55s %4s/%s/%-5s %4s/%s/%-5s %s\n' "$t" "$rp" "$rf" "$rr" "$bp" "$bf" "$br" "$v"
done
echo "programs where berth does worse than runc: $worse (work dir: $W)"
[ "$worse" -eq 0 ]

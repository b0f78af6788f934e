#!/usr/bin/env bash
# `berth runtime run` against `runc run` on the same busybox bundle running `true`, in one hyperfine run,
# plus Node's own start-up as the floor, and Berth's in-process runtime path (code start -> process exec'd)
# from its BERTH_DEBUG step timings. Run as root: bash bench/runtime.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-30}
berth="node $here/dist/bin/cli/berth.cjs" # the installed entry (package.json bin)
work=$(mktemp -d /tmp/berth-bench-XXXX)
trap 'runc delete -f bench-runc >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (apt-get install hyperfine)" >&2; exit 1; }
command -v runc >/dev/null || { echo "bench: runc is missing (apt-get install runc)" >&2; exit 1; }

# runc refuses a symlinked rootfs: make a real copy of the busybox bundle
bash "$here/scripts/busybox-bundle.sh" "$work/bundle" /bin/true >/dev/null

# NODE_EXTRA_CA_CERTS makes every node process parse the whole CA file (and Node's own roots) while it
# starts, before any of our code runs: with Debian's ca-certificates bundle ~40 ms of a quiet `node -e ""`
# (valgrind: 85 M instructions without it, 503 M with it). runc and dockerd (Go) read CA files only when
# they dial TLS. When it is set, Berth and node also run without it (info rows), to show both floors.
extra=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
  extra=(-n berth-noca "env -u NODE_EXTRA_CA_CERTS $berth runtime run --bundle $work/bundle bench-berth"
         -n node-noca "env -u NODE_EXTRA_CA_CERTS node -e ''")
fi
hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/h.json" \
  -n runc "runc run --bundle $work/bundle bench-runc" \
  -n berth "$berth runtime run --bundle $work/bundle bench-berth" \
  -n node "node -e ''" "${extra[@]}"

# in-process path: from "cli: loaded" (first line of our code) to "run: started" (the process exec'd)
for _ in $(seq 1 "$runs"); do
  BERTH_DEBUG=1 $berth runtime run --bundle "$work/bundle" bench-berth 2>&1 >/dev/null \
    | awk '/cli: loaded/ { a = $2 + 0 } /run .*: started/ { s = $2 + 0 } /run .*: removed/ { r = $2 + 0 } END { printf "%.1f %.1f\n", s - a, r - a }'
done | sort -n | awk '{ s[NR] = $1; r[NR] = $2 } END { printf "berth runtime path (code start -> exec): median %.1f ms; to cleaned up: %.1f ms\n", s[int((NR + 1) / 2)], r[int((NR + 1) / 2)] }'

node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1])).results;
const m = Object.fromEntries(r.map((x) => [x.command, x.median * 1000]));
console.log(`medians: runc ${m.runc.toFixed(1)} ms, berth ${m.berth.toFixed(1)} ms, node -e "" ${m.node.toFixed(1)} ms`);
console.log(`berth / runc = ${(m.berth / m.runc).toFixed(2)}x   (berth - node start) = ${(m.berth - m.node).toFixed(1)} ms`);
// CPU (user+sys, means) moves less than wall time when other work shares the cores
const cpu = Object.fromEntries(r.map((x) => [x.command, (x.user + x.system) * 1000]));
console.log(`cpu (user+sys): runc ${cpu.runc.toFixed(1)} ms, berth ${cpu.berth.toFixed(1)} ms, node ${cpu.node.toFixed(1)} ms; berth - node = ${(cpu.berth - cpu.node).toFixed(1)} ms`);
console.log(`BENCH\truntime run (busybox bundle, true)\t${m.berth.toFixed(1)}\trunc\t${m.runc.toFixed(1)}\tms\t<=2`);
console.log(`BENCH\tnode -e "" (start-up floor)\t${m.node.toFixed(1)}\trunc\t${m.runc.toFixed(1)}\tms\t-`);
if (m["berth-noca"] !== undefined) {
  console.log(`NODE_EXTRA_CA_CERTS is set: without it berth ${m["berth-noca"].toFixed(1)} ms = ${(m["berth-noca"] / m.runc).toFixed(2)}x runc, node -e "" ${m["node-noca"].toFixed(1)} ms = ${(m["node-noca"] / m.runc).toFixed(2)}x`);
  console.log(`BENCH\truntime run, NODE_EXTRA_CA_CERTS unset\t${m["berth-noca"].toFixed(1)}\trunc\t${m.runc.toFixed(1)}\tms\t-`);
  console.log(`BENCH\tnode -e "", NODE_EXTRA_CA_CERTS unset\t${m["node-noca"].toFixed(1)}\trunc\t${m.runc.toFixed(1)}\tms\t-`);
}
' "$work/h.json"

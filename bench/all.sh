#!/usr/bin/env bash
# Every comparison in bench/ in one go, then one table: measure, Berth, peer, ratio, goal, met.
# Each bench script starts its own peers (containerd + Debian's dockerd, runc, a local registry) and
# removes them on exit; besides its own text it prints one line per measure:
#   BENCH<TAB>measure<TAB>berth value<TAB>peer name<TAB>peer value<TAB>unit<TAB>goal
# where goal bounds berth/peer (`<=0.5` for times, `>=1` for throughput; `-` for a figure shown for
# reference only). Peer `abs` with value 1 makes the goal a bound on Berth's own value.
# As root: bash bench/all.sh [SCRIPT-SUBSTRING...]   (logs stay in the directory it prints)
set -uo pipefail
# The table is for a default machine, which has no NODE_EXTRA_CA_CERTS: with it every Node process (berth, berthd)
# parses the whole CA file while it starts (~50 ms CPU here, before any of Berth's code), which the Go peers never do.
# bench/runtime.sh run on its own with it set shows both (info rows).
nec=${NODE_EXTRA_CA_CERTS:-}
unset NODE_EXTRA_CA_CERTS
here=$(cd "$(dirname "$0")/.." && pwd)
LOGS=$(mktemp -d /tmp/berth-bench-all-XXXX)
[ -f "$here/dist/bin/daemon/berthd.js" ] || { echo "build Berth first: npm run build" >&2; exit 2; }

scripts=()
for s in "$here"/bench/*.sh; do
  case "$(basename "$s")" in all.sh | peers.sh) continue ;; esac
  if [ $# -gt 0 ]; then
    keep=
    for f in "$@"; do case "$(basename "$s")" in *"$f"*) keep=1 ;; esac; done
    [ -n "$keep" ] || continue
  fi
  scripts+=("$s")
done

: >"$LOGS/bench.tsv"
for s in "${scripts[@]}"; do
  name=$(basename "$s" .sh)
  echo "== $name" >&2
  start=$(date +%s)
  if bash "$s" >"$LOGS/$name.log" 2>&1; then st=ok; else st="failed ($?)"; fi
  echo "   $st in $(($(date +%s) - start)) s, log $LOGS/$name.log" >&2
  grep -P '^BENCH\t' "$LOGS/$name.log" | sed "s/^BENCH\t/$name\t/" >>"$LOGS/bench.tsv"
  [ "$st" = ok ] || printf '%s\t(script %s: see its log)\t-\t-\t-\t-\t-\n' "$name" "$st" >>"$LOGS/bench.tsv"
done

node - "$LOGS/bench.tsv" <<'JS'
const fs = require('fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t'));
const fmt = (v) => (v === '-' || v === undefined ? '-' : Number(v) >= 100 ? Number(v).toFixed(0) : Number(v).toPrecision(3));
const out = [['script', 'measure', 'Berth', 'peer', 'peer value', 'unit', 'ratio', 'goal', 'met']];
let met = 0, missed = 0;
for (const [script, measure, b, peer, p, unit, goal] of rows) {
  if (b === '-') { out.push([script, measure, '-', '-', '-', '-', '-', '-', 'FAILED']); missed++; continue; }
  const ratio = Number(b) / Number(p);
  let verdict = 'info';
  const m = /^(<=|>=)([\d.]+)$/.exec(goal ?? '');
  if (m) {
    const ok = m[1] === '<=' ? ratio <= Number(m[2]) : ratio >= Number(m[2]);
    verdict = ok ? 'met' : 'NOT MET';
    ok ? met++ : missed++;
  }
  out.push([script, measure, fmt(b), peer, peer === 'abs' ? '-' : fmt(p), unit, peer === 'abs' ? '-' : ratio.toFixed(2), goal, verdict]);
}
const w = out[0].map((_, i) => Math.max(...out.map((r) => String(r[i]).length)));
for (const r of out) console.log(r.map((c, i) => String(c).padEnd(w[i])).join('  ').trimEnd());
console.log(`\ngoals met: ${met}, not met: ${missed}`);
JS
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr), $(date -u +%Y-%m-%dT%H:%MZ); logs: $LOGS"
[ -z "$nec" ] || echo "NODE_EXTRA_CA_CERTS ($nec) was unset for this run"

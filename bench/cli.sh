#!/usr/bin/env bash
# The berth CLI's own start-up (issue 13: under 20 ms above `node -e 0`) for `ps`, `run --rm IMG true`,
# `exec CTR true`, `logs CTR` and `inspect CTR`, run through the entry users run (package.json bin:
# dist/bin/cli/berth.cjs) and through the docker CLI against the same berthd.
#
# Method. All commands run in interleaved rounds (bench/cli-time.mjs: every round runs each command once, in a
# new random order, so load on the machine falls on all alike); medians of wall time are reported. A berth
# command's time is node's own start-up + the CLI's own work + the time it waits on the daemon. The daemon's
# part is measured directly: with BERTH_DEBUG the client prints at exit how long any request (or hijacked
# stream) was in flight (src/client/timing.ts), so
#   own (direct) = median over runs of (berth wall - its daemon wait) - median(node -e 0)
# It counts the CLI's work done while a request is in flight as the daemon's (parsing between two requests of
# one command is not: then nothing is in flight). As a cross-check, the daemon's part is also estimated from the
# docker CLI: (docker CMD) - (docker --version); that estimate also holds the docker CLI's own version
# negotiation (GET /_ping) and output, so
#   own (via docker) = berth - node -e 0 - (docker CMD - docker --version)
# CPU, less moved by a loaded machine than wall time: the CPU time berth used up to exit (process.cpuUsage, all
# threads; printed with the timing line) minus that of a `node -e` that only prints its own, same way:
#   own cpu = median(berth cpu) - median(node cpu)
# Also printed: when the first request left (first) and the time from the last answer to exit (tail), both in
# ms since process start, medians.
# BERTH_CLI_BASE=/path/to/other/berth.cjs adds that entry as "base" to the same rounds (before/after in one run).
# As root: bash bench/cli.sh [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-30}
for t in docker node; do command -v $t >/dev/null || { echo "bench: $t is missing (apt-get install docker.io)" >&2; exit 1; }; done
WORK=$(mktemp -d /tmp/berth-bench-cli-XXXX)
BS=$WORK/berth.sock DS=
# berthd as every bench starts it (bench/peers.sh: setsid, a watcher, its own bridge and table), alone
PEERS_DOCKERD=0
. "$here/bench/peers.sh"
docker -H "unix://$BS" import -c 'CMD ["sh"]' "$WORK/rootfs.tar" bb:bench >/dev/null
docker -H "unix://$BS" run -d --network none --name cli1 bb:bench sh -c 'echo hello; exec sleep 100000' >/dev/null

names=(ps run exec logs inspect)
node -e '
const [here, bs, base, ...names] = process.argv.slice(1);
const args = { ps: ["ps"], run: ["run", "--rm", "--network", "none", "bb:bench", "true"], exec: ["exec", "cli1", "true"], logs: ["logs", "cli1"], inspect: ["inspect", "cli1"] };
const debug = { BERTH_DEBUG: "1" };
const cpuOnly = "process.on(\"exit\", () => { const c = process.cpuUsage(); require(\"fs\").writeSync(2, `cpu=${(c.user + c.system) / 1000}ms\\n`); })";
const spec = [{ name: "node", argv: ["node", "-e", "0"] }, { name: "nodecpu", argv: ["node", "-e", cpuOnly] }, { name: "dver", argv: ["docker", "--version"] }];
for (const n of names) {
  spec.push({ name: `berth ${n}`, argv: ["node", `${here}/dist/bin/cli/berth.cjs`, "-H", `unix://${bs}`, ...args[n]], env: debug });
  if (base) spec.push({ name: `base ${n}`, argv: ["node", base, "-H", `unix://${bs}`, ...args[n]], env: debug });
  spec.push({ name: `docker ${n}`, argv: ["docker", "-H", `unix://${bs}`, ...args[n]] });
}
console.log(JSON.stringify(spec));
' "$here" "$BS" "${BERTH_CLI_BASE:-}" "${names[@]}" >"$WORK/spec.json"
node "$here/bench/cli-time.mjs" "$rounds" "$WORK/spec.json" >"$WORK/result.json"

node -e '
const fs = require("fs");
const [file, ...names] = process.argv.slice(1);
const r = JSON.parse(fs.readFileSync(file, "utf8"));
const f = (x) => (x === undefined ? "-" : x.toFixed(1)).padStart(7);
const node = r.node.wall, dver = r.dver.wall, nodecpu = r.nodecpu.cpu;
console.log(`medians in ms; node -e 0 ${node.toFixed(1)} (cpu ${nodecpu.toFixed(1)}), docker --version ${dver.toFixed(1)}`);
console.log("entry   command    wall  d.wait  first    tail   own(direct)  docker  own(via docker)  own cpu");
const bench = [];
for (const n of names) {
  const d = r[`docker ${n}`].wall;
  for (const who of ["base", "berth"]) {
    const b = r[`${who} ${n}`];
    if (!b) continue;
    const direct = b.notWaiting === undefined ? undefined : b.notWaiting - node, viaDocker = b.wall - node - (d - dver);
    console.log(`${who.padEnd(6)}  ${n.padEnd(8)} ${f(b.wall)} ${f(b.wait)} ${f(b.first)} ${f(b.tail)}   ${f(direct)}     ${f(d)}  ${f(viaDocker)}          ${f(b.cpu === undefined ? undefined : b.cpu - nodecpu)}`);
    if (who === "berth") bench.push(["BENCH", `cli ${n}: berth CLI own start (ms above node -e 0, daemon part out)`, f(direct).trim(), "abs", "1", "ms", "<=20"].join("\t"));
  }
}
// the two ways of taking the daemon part out should agree (they differ by what the docker CLI does besides
// the requests: its /_ping, its output); a wide gap means one of them is off
console.log(`methods: own(direct) - own(via docker): ${names.map((n) => { const b = r[`berth ${n}`]; return `${n} ${(b.notWaiting - node - (b.wall - node - (r[`docker ${n}`].wall - dver))).toFixed(1)}`; }).join(", ")} ms`);
console.log(bench.join("\n"));
' "$WORK/result.json" "${names[@]}"

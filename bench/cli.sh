#!/usr/bin/env bash
# The berth CLI's own start-up (issue 13: under 20 ms above `node -e 0`) for `ps`, `run --rm IMG true`,
# `exec CTR true`, `logs CTR` and `inspect CTR`, run through the entry users run (package.json bin:
# dist/bin/cli/berth.cjs) and through the docker CLI against the same berthd.
#
# Measured: for each command, the berth CLI's wall time with the time it waits on the daemon taken out, above
# the wall time of `node -e 0` (node's own start-up and exit): what the CLI itself costs a user.
# Method. Each command runs in a group with its own floors (`node -e 0` for wall, a `node -e` that prints its CPU
# time for CPU), one after another in a random order (bench/cli-time.mjs), and every run is taken against the
# floor run of its own group and round; a row is the median of those per-round differences (p25-p75 beside it).
# Groups run in a new random order every round. So a floor and the runs taken from it are at most a few
# seconds apart, and a drift of the machine's load falls on both (issue 13: one run's floor median read 17 ms
# above the usual, and three rows failed with it when the floor's and the command's medians were taken apart).
# The daemon's part is measured directly: with BERTH_DEBUG the client prints at exit how long any request (or
# hijacked stream) was in flight (src/client/timing.ts), so
#   own (direct) = median over rounds of (berth wall - its daemon wait - node -e 0 wall of the same group)
# It counts the CLI's work done while a request is in flight as the daemon's (parsing between two requests of
# one command is not: then nothing is in flight), as before this method changed. As a cross-check, the
# daemon's part is also estimated from the docker CLI, in groups of its own with `docker --version` as the
# floor; that estimate also holds the docker CLI's own version negotiation (GET /_ping) and output, so
#   own (via docker) = median(berth wall - node -e 0) - median(docker CMD - docker --version)
# CPU, less moved by a loaded machine than wall time: the CPU time berth used up to exit (process.cpuUsage, all
# threads; printed with the timing line) minus that of the `node -e` of its group that only prints its own:
#   own cpu = median over rounds of (berth cpu - node cpu)
# Also printed: when the first request left (first) and the time from the last answer to exit (tail), both in
# ms since process start, medians.
# What pairing does not take out: a loaded machine makes the CLI's own work itself slower (its CPU time too);
# the goal is judged on a quiet machine.
# BERTH_CLI_BASE=/path/to/other/berth.cjs adds that entry as "base" to the same groups (before/after in one run,
# both taken from the same floor runs).
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
const commands = { node: { argv: ["node", "-e", "0"] }, nodecpu: { argv: ["node", "-e", cpuOnly] }, dver: { argv: ["docker", "--version"] } };
const groups = [];
for (const n of names) {
  commands[`berth ${n}`] = { argv: ["node", `${here}/dist/bin/cli/berth.cjs`, "-H", `unix://${bs}`, ...args[n]], env: debug };
  if (base) commands[`base ${n}`] = { argv: ["node", base, "-H", `unix://${bs}`, ...args[n]], env: debug };
  commands[`docker ${n}`] = { argv: ["docker", "-H", `unix://${bs}`, ...args[n]] };
  groups.push({ wall: "node", cpu: "nodecpu", runs: [`berth ${n}`, ...(base ? [`base ${n}`] : [])] });
  groups.push({ wall: "dver", runs: [`docker ${n}`] });
}
console.log(JSON.stringify({ commands, groups }));
' "$here" "$BS" "${BERTH_CLI_BASE:-}" "${names[@]}" >"$WORK/spec.json"
node "$here/bench/cli-time.mjs" "$rounds" "$WORK/spec.json" >"$WORK/result.json"

node -e '
const fs = require("fs");
const [file, ...names] = process.argv.slice(1);
const r = JSON.parse(fs.readFileSync(file, "utf8"));
const f = (x) => (x === undefined ? "-" : x.toFixed(1)).padStart(7);
const q = (s) => `${f(s.median)} (${s.p25.toFixed(1)}..${s.p75.toFixed(1)})`.padEnd(22);
console.log(`medians in ms; node -e 0 ${f(r.node.wall).trim()} (cpu ${f(r.nodecpu.cpu).trim()}), docker --version ${f(r.dver.wall).trim()}; own columns: median over rounds of the difference from the floor of the same group and round (p25..p75)`);
console.log(`entry   command    wall  d.wait  first    tail   ${"own(direct) (p25..p75)".padEnd(22)}  docker  own(via docker)  own cpu (p25..p75)`);
const bench = [];
for (const n of names) {
  const d = r[`docker ${n}`];
  for (const who of ["base", "berth"]) {
    const b = r[`${who} ${n}`];
    if (!b) continue;
    const viaDocker = b.over.median - d.over.median;
    console.log(`${who.padEnd(6)}  ${n.padEnd(8)} ${f(b.wall)} ${f(b.wait)} ${f(b.first)} ${f(b.tail)}   ${q(b.own)} ${f(d.wall)}  ${f(viaDocker)}          ${q(b.ownCpu)}`);
    if (who === "berth") bench.push(["BENCH", `cli ${n}: berth CLI own start (ms above node -e 0, daemon part out)`, f(b.own.median).trim(), "abs", "1", "ms", "<=20"].join("\t"));
  }
}
// the two ways of taking the daemon part out should agree (they differ by what the docker CLI does besides
// the requests: its /_ping, its output); a wide gap means one of them is off
console.log(`methods: own(direct) - own(via docker): ${names.map((n) => { const b = r[`berth ${n}`]; return `${n} ${(b.own.median - (b.over.median - r[`docker ${n}`].over.median)).toFixed(1)}`; }).join(", ")} ms`);
console.log(bench.join("\n"));
' "$WORK/result.json" "${names[@]}"

// The docker CLI's output details: several names printed in argument order (parallelOperation), go-units
// sizes (%.4g / %.3g), system df's tables as docker/cli v28's formatter.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { each } from '../../src/cli/docker/containers.js';
import { bytesSize, goG, humanSize, humanSize3 } from '../../src/cli/docker/output.js';
import { dfSummary, dfVerbose } from '../../src/cli/docker/filesystem.js';
import { ApiError } from '../../src/client/index.js';

async function capture(f: () => Promise<number>): Promise<{ rc: number; out: string; err: string }> {
  let out = '', err = '';
  const o = process.stdout.write, e = process.stderr.write;
  // strings only: node --test's runner talks over stdout in buffers
  process.stdout.write = ((s: string | Uint8Array, ...a: never[]) => (typeof s === 'string' ? ((out += s), true) : o.call(process.stdout, s, ...a))) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array, ...a: never[]) => (typeof s === 'string' ? ((err += s), true) : e.call(process.stderr, s, ...a))) as typeof process.stderr.write;
  try { return { rc: await f(), out, err }; } finally { process.stdout.write = o; process.stderr.write = e; }
}

const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('several names: run at once, printed in argument order, errors after in that order', async () => {
  const finished: string[] = [];
  const delay: Record<string, number> = { a: 60, b: 0, c: 30, d: 10 };
  const r = await capture(() => each(['a', 'b', 'c', 'd'], async (n) => {
    await later(delay[n]!);
    finished.push(n);
    if (n === 'd') throw new ApiError(404, 'No such container: d');
    if (n === 'c') throw new ApiError(409, 'c is busy');
  }));
  assert.deepEqual(finished, ['b', 'd', 'c', 'a']); // they did run side by side
  assert.equal(r.out, 'a\nb\n');
  assert.equal(r.err, 'Error response from daemon: c is busy\nError response from daemon: No such container: d\n');
  assert.equal(r.rc, 1);
  // a note (rm -f of a missing container) goes to stderr in its turn and is no failure
  const n = await capture(() => each(['x', 'y'], async (m) => { await later(m === 'x' ? 30 : 0); return m === 'x' ? 'gone x\n' : undefined; }));
  assert.deepEqual(n, { rc: 0, out: 'y\n', err: 'gone x\n' });
});

test('go-units sizes as Go prints them', () => {
  assert.equal(goG(1.984, 4), '1.984');
  assert.equal(goG(2, 4), '2');
  assert.equal(goG(999.6, 3), '1e+03'); // Go's %g switches to an exponent at 10^precision
  assert.equal(goG(0.5, 3), '0.5');
  assert.equal(goG(0.00001234, 3), '1.23e-05');
  assert.equal(humanSize(1_984_000), '1.984MB');
  assert.equal(humanSize(2_846_208), '2.846MB');
  assert.equal(humanSize3(2_846_208), '2.85MB');
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize3(999_600), '1e+03kB');
  assert.equal(bytesSize(1.5 * 2 ** 30), '1.5GiB');
  assert.equal(bytesSize(4_102_889_472), '3.821GiB');
});

const IMG = { Id: 'sha256:' + '7da4c484e9dd'.padEnd(64, '0'), RepoTags: ['busybox:latest', 'bb:1'], Created: 0, Size: 2_846_208, SharedSize: 0, Containers: 2 };
const ctr = (id: string, state: string, rw: number) => ({ Id: id.padEnd(64, '0'), Image: 'busybox', Command: "sh -c 'echo hi; echo err >&2'", Created: 0, State: state, Status: state === 'running' ? 'Up 7 minutes' : 'Exited (3) 7 minutes ago', Names: ['/ex1'], SizeRw: rw, Mounts: [{ Type: 'volume', Driver: 'local' }] });

test('system df: docker v28 summary (HumanSize, shares of reclaimable, tabwriter width 10)', async () => {
  const d = {
    LayersSize: 2_846_208,
    Images: [{ ...IMG, SharedSize: 1_000_000 }, { ...IMG, Id: 'sha256:' + '1'.repeat(64), RepoTags: [], Size: 1_000_000, Containers: 0 }],
    Containers: [ctr('ea1f4dc24fff', 'exited', 1_500_000), ctr('20d244495631', 'running', 500_000), ctr('30d244495631', 'restarting', 0)],
    Volumes: [{ Name: 'v1', UsageData: { Size: 4096, RefCount: 0 } }, { Name: 'v2', UsageData: { Size: -1, RefCount: 1 } }],
    BuildCache: [{ ID: 'a'.repeat(25), Size: 100, InUse: true }, { ID: 'b'.repeat(25), Size: 50, Shared: true }, { ID: 'c'.repeat(25), Size: 20 }],
  };
  assert.equal(await dfSummary(d), [
    'TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE',
    'Images          2         1         2.846MB   1MB (35%)',
    'Containers      3         2         2MB       1.5MB (75%)',
    'Local Volumes   2         1         4.096kB   4.096kB (100%)',
    'Build Cache     3         1         120B      20B',
    ''].join('\n'));
  assert.equal((await dfSummary({ LayersSize: 0, Images: [], Containers: [], Volumes: [], BuildCache: [] })).split('\n')[1], 'Images          0         0         0B        0B');
});

test('system df -v: docker v28 sections, first tag only, sizes %.3g and %.4g, cache table', () => {
  const now = 420_000;
  const out = dfVerbose({ LayersSize: 0, Images: [IMG], Containers: [ctr('ea1f4dc24fff', 'exited', 0)], Volumes: [{ Name: 'v1', UsageData: { Size: 0, RefCount: 0 } }], BuildCache: [] }, now);
  assert.equal(out, [
    'Images space usage:',
    '',
    'REPOSITORY   TAG       IMAGE ID       CREATED         SIZE      SHARED SIZE   UNIQUE SIZE   CONTAINERS',
    'busybox      latest    7da4c484e9dd   7 minutes ago   2.85MB    0B            2.846MB       2',
    '',
    'Containers space usage:',
    '',
    'CONTAINER ID   IMAGE     COMMAND                  LOCAL VOLUMES   SIZE      CREATED         STATUS                     NAMES',
    'ea1f4dc24fff   busybox   "sh -c \'echo hi; ech…"   1               0B        7 minutes ago   Exited (3) 7 minutes ago   ex1',
    '',
    'Local Volumes space usage:',
    '',
    'VOLUME NAME   LINKS     SIZE',
    'v1            0         0B',
    '',
    'Build cache usage: 0B',
    '',
    'CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED',
    ''].join('\n'));
});

test('a wrong command line in docker\'s words (cli/required.go), unknown flags exit 125', async () => {
  const { usageError } = await import('../../src/cli/docker/index.js');
  assert.deepEqual(await usageError('unknown flag: --bogus', 'ps'), { code: 125, text: "unknown flag: --bogus\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information\n" });
  assert.deepEqual(await usageError('"rm" requires at least 1 argument.\nSee \'berth rm --help\'.', 'rm'),
    { code: 1, text: "berth: 'berth rm' requires at least 1 argument\n\nUsage:  berth rm [OPTIONS] CONTAINER [CONTAINER...]\n\nSee 'berth rm --help' for more information\n" });
  assert.deepEqual(await usageError('"logs" requires exactly 1 argument.', 'logs'),
    { code: 1, text: "berth: 'berth logs' requires 1 argument\n\nUsage:  berth logs [OPTIONS] CONTAINER\n\nRun 'berth logs --help' for more information\n" });
  assert.equal(await usageError('No such container: x', 'rm'), undefined);
});

test('argument counts as docker 28 words them: none, a range, at most (cli/required.go)', async () => {
  const { usageError } = await import('../../src/cli/docker/index.js');
  const { checkArgCount } = await import('../../src/cli/args.js');
  const said = (pos: string[], name: string, min: number, max?: number) => {
    try { checkArgCount(pos, name, min, max); return undefined; } catch (e) { return usageError((e as Error).message, name); }
  };
  assert.equal(await said([], 'system df', 0), undefined);
  assert.deepEqual(await said(['x'], 'container prune', 0),
    { code: 1, text: "berth: 'berth container prune' accepts no arguments\n\nUsage:  berth container prune [OPTIONS]\n\nRun 'berth container prune --help' for more information\n" });
  assert.deepEqual(await said([], 'port', 1, 2),
    { code: 1, text: "berth: 'berth port' requires at least 1 and at most 2 arguments\n\nUsage:  berth port CONTAINER [PRIVATE_PORT[/PROTO]]\n\nRun 'berth port --help' for more information\n" });
  assert.deepEqual(await said(['a', 'b'], 'logout', 0, 1),
    { code: 1, text: "berth: 'berth logout' requires at most 1 argument\n\nUsage:  berth logout [SERVER]\n\nRun 'berth logout --help' for more information\n" });
  assert.deepEqual(await said([], 'import', 1, Infinity),
    { code: 1, text: "berth: 'berth import' requires at least 1 argument\n\nUsage:  berth import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]\n\nSee 'berth import --help' for more information\n" });
  assert.deepEqual(await said(['a'], 'cp', 2),
    { code: 1, text: "berth: 'berth cp' requires 2 arguments\n\nUsage:  berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH\n\nRun 'berth cp --help' for more information\n" });
});

test('--format json and {{json .}} of a row as docker/cli MarshalJSON: sorted keys, HTML escaped; the json func unescaped', async () => {
  const { formatRows } = await import('../../src/cli/docker/format.js');
  const { render } = await import('../../src/cli/docker/template.js');
  const row = { Name: 'v', Labels: 'a=<b>&c', Driver: 'local' };
  const want = '{"Driver":"local","Labels":"a=\\u003cb\\u003e\\u0026c","Name":"v"}\n';
  assert.equal(await formatRows([row], 'json', 'table {{.Name}}', {}), want);
  assert.equal(await formatRows([row], '{{json .}}', 'table {{.Name}}', {}), want);
  assert.equal(await formatRows([row], '{{json .Labels}}', 'table {{.Name}}', {}), '"a=<b>&c"\n');
  assert.equal(render('{{json .}}', { b: '<', a: 1 }), '{"b":"<","a":1}');
});

test('events --format: events.Message\'s Go field names, {{json .}} with the exact timeNano', async () => {
  const { eventContext } = await import('../../src/cli/docker/system.js');
  const { render } = await import('../../src/cli/docker/template.js');
  const ns = 1796658484521658864n;
  const e = { status: 'create', id: 'abc', from: 'bb:fid', Type: 'container', Action: 'create', Actor: { ID: 'abc', Attributes: { image: 'bb:fid', name: 'ev1' } }, scope: 'local', time: 1796658484, timeNano: Number(ns) };
  const ctx = eventContext(e as never, ns);
  assert.equal(render('{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes}} {{.Status}} {{.ID}} {{.From}} {{.Scope}} {{.Time}} {{.TimeNano}}', ctx),
    'container create abc map[image:bb:fid name:ev1] create abc bb:fid local 1796658484 1796658484521658864');
  assert.equal(render('{{json .}}', ctx), '{"status":"create","id":"abc","from":"bb:fid","Type":"container","Action":"create","Actor":{"ID":"abc","Attributes":{"image":"bb:fid","name":"ev1"}},"scope":"local","time":1796658484,"timeNano":1796658484521658864}');
});

test('time.Time as Go prints it: network CreatedAt/Created (String()), RFC3339Nano with ns', async () => {
  const { goTimeString } = await import('../../src/cli/docker/networks.js');
  const { GoText } = await import('../../src/cli/docker/format.js');
  const { render } = await import('../../src/cli/docker/template.js');
  const { isoTimeNs } = await import('../../src/util/time.js');
  assert.equal(goTimeString('2026-12-07T15:38:19.143250390Z'), '2026-12-07 15:38:19.14325039 +0000 UTC');
  assert.equal(goTimeString('2026-12-07T15:38:19Z'), '2026-12-07 15:38:19 +0000 UTC');
  const n = { Created: new GoText('2026-12-07 15:38:19.1 +0000 UTC', '2026-12-07T15:38:19.1Z') };
  assert.equal(render('{{.Created}} {{json .Created}} {{json .}}', n), '2026-12-07 15:38:19.1 +0000 UTC "2026-12-07T15:38:19.1Z" {"Created":"2026-12-07T15:38:19.1Z"}');
  assert.equal(isoTimeNs(1796657899143250393n), '2026-12-07T15:38:19.143250393Z');
  assert.equal(isoTimeNs(1796657899100000000n), '2026-12-07T15:38:19.1Z');
  assert.equal(isoTimeNs(1796657899000000000n), '2026-12-07T15:38:19Z');
  assert.match(isoTimeNs(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
});

test('system df --format: DiskUsageContext\'s fields, json rows as docker/cli marshals them', async () => {
  const empty = { LayersSize: 0, Images: [], Containers: [], Volumes: [], BuildCache: [] };
  assert.equal((await dfSummary(empty, 'json')).split('\n')[0], '{"Active":"0","Reclaimable":"0B","Size":"0B","TotalCount":"0","Type":"Images"}');
  assert.equal(await dfSummary(empty, '{{.Type}}|{{.TotalCount}}'), 'Images|0\nContainers|0\nLocal Volumes|0\nBuild Cache|0\n');
  assert.equal(await dfSummary(empty, 'table {{.Type}}\t{{.Reclaimable}}'), 'TYPE            RECLAIMABLE\nImages          0B\nContainers      0B\nLocal Volumes   0B\nBuild Cache     0B\n');
});

test('info: plugins, swarm, runtimes, versions and security options in docker/cli\'s order and words', async () => {
  const { serverPluginsAndRuntimes } = await import('../../src/cli/docker/system.js');
  const i = {
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file'] },
    Swarm: { LocalNodeState: 'inactive' }, Runtimes: { runc: { path: 'runc' }, berth: { path: 'berth-helper' } }, DefaultRuntime: 'berth',
    InitBinary: '', ContainerdCommit: { ID: '' }, RuncCommit: { ID: '' }, InitCommit: { ID: '' }, CDISpecDirs: [],
    SecurityOptions: ['name=seccomp,profile=builtin', 'name=cgroupns'],
  };
  assert.deepEqual(serverPluginsAndRuntimes(i as never), [
    ' Plugins:', '  Volume: local', '  Network: bridge host null', '  Log: json-file', ' Swarm: inactive', ' Runtimes: berth runc',
    ' Default Runtime: berth', ' Init Binary: ', ' containerd version: ', ' runc version: ', ' init version: ',
    ' Security Options:', '  seccomp', '   Profile: builtin', '  cgroupns',
  ]);
});

test('--format: Go template actions (range, if/else if, with, variables, pipes) and builtins, as docker 28 prints them', async () => {
  const { render } = await import('../../src/cli/docker/template.js');
  const c = { Name: '/lab', State: { Status: 'created', Running: false, ExitCode: 0 }, Config: { Labels: { b: '2', a: '<1>' }, Cmd: ['sh', '-c', 'x'] } };
  // outputs as docker 28.2.2 printed them for the same container (notes/cli-compare.md)
  assert.equal(render('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}', c), 'a=<1>;b=2;');
  assert.equal(render('{{if .State.Running}}up{{else}}down{{end}}', c), 'down');
  assert.equal(render('{{index .Config.Labels "a"}}', c), '<1>');
  assert.equal(render('{{printf "%s-%d" .Name .State.ExitCode}}', c), '/lab-0');
  assert.equal(render('{{.Name | upper}}', c), '/LAB');
  assert.equal(render('{{range .Config.Cmd}}[{{.}}]{{end}}', c), '[sh][-c][x]');
  assert.equal(render('{{with .Config.Labels}}{{len .}}{{end}}', c), '2');
  assert.equal(render('{{if eq .State.Status "running"}}R{{else if eq .State.Status "created"}}C{{end}}', c), 'C');
  assert.equal(render('a {{- .Name -}} b', c), 'a/labb');
  assert.equal(render('{{$n := .Name}}{{$n}} {{$.State.Status}}', c), '/lab created');
  assert.equal(render('{{range .Nothing}}x{{else}}none{{end}}', { Nothing: [] }), 'none');
  assert.throws(() => render('{{if .Name}}x', c), /unexpected EOF/);
  assert.throws(() => render('{{nosuch .Name}}', c), /function "nosuch" not defined/);
});

test('--format: parenthesised sub-pipelines, fmt\'s verbs, flags and notes, <no value> for a missing map key, as Go 1.24 prints them', async () => {
  const { render } = await import('../../src/cli/docker/template.js');
  const c = { Name: '/lab', Csv: 'a,b,c', State: { Status: 'created', Pid: 42 }, Config: { Labels: { a: '1' }, Cmd: ['sh', '-c', 'x'] } };
  assert.equal(render('{{join (split .Csv ",") "-"}} {{len (split "a,b" ",")}} {{(index .Config.Cmd 0)}}', c), 'a-b-c 2 sh');
  assert.equal(render('{{if (eq .State.Status "created")}}y{{end}} {{(.State).Status}}', c), 'y created');
  assert.equal(render('{{printf "%-10s|%5d|%-5d|%05d" .Name 42 42 -42}}', c), '/lab      |   42|42   |-0042');
  assert.equal(render('{{printf "%t %T %T %T %T" true .Name .State.Pid .Config.Labels .Config.Cmd}}', c), 'true string int map[string]string []string');
  assert.equal(render('{{printf "%x %#x %X %o %b %c %U %q" 255 255 255 8 5 65 65 .Name}}', c), 'ff 0xff FF 10 101 A U+0041 "/lab"');
  assert.equal(render('{{printf "%.2f %8.3f|%+d %e %g %g %.3s %6.2f%%" 3.14159 3.14159 5 1234.5678 0.00001 1.5 "abcdef" 12.345}}', c), '3.14    3.142|+5 1.234568e+03 1e-05 1.5 abc  12.35%');
  // fmt's notes for a wrong type, a missing and an extra argument
  assert.equal(render('{{printf "%d|%s|%s %s" "abc" .State.Pid "a"}}', c), '%!d(string=abc)|%!s(int=42)|a %!s(MISSING)');
  assert.equal(render('{{printf "%s" "a" "b"}}', c), 'a%!(EXTRA string=b)');
  // a map's missing key prints <no value> (as an argument: nil); a struct's missing field stays an error
  assert.equal(render('{{.Config.Labels.nope}} {{.Config.Labels.nope | printf "%s"}} [{{index .Config.Labels "nope"}}]', c), '<no value> %!s(<nil>) []');
  assert.throws(() => render('{{.State.Nope}}', c), /can't evaluate field Nope/);
  assert.throws(() => render('{{join (split .Csv ","}}', c), /unclosed left paren/);
});

test('--format: a template of {{.Field}}s only renders without the template engine, the same as with it', async () => {
  const { formatRows } = await import('../../src/cli/docker/format.js');
  const rows = [{ ID: 'abc', Names: 'n1', Status: 'Up' }, { ID: 'def', Names: 'n2', Status: 'Exited (0)' }];
  const heads = { ID: 'CONTAINER ID', Names: 'NAMES', Status: 'STATUS' };
  assert.equal(await formatRows(rows, undefined, 'table {{.ID}}\t{{.Names}}\t{{.Status}}', heads), 'CONTAINER ID   NAMES     STATUS\nabc            n1        Up\ndef            n2        Exited (0)\n');
  assert.equal(await formatRows(rows, '{{ .Names }}:{{.Status}}', '', heads), 'n1:Up\nn2:Exited (0)\n');
  // the same through the engine (a pipe makes the template more than fields)
  assert.equal(await formatRows(rows, '{{.Names | print}}:{{.Status}}', '', heads), 'n1:Up\nn2:Exited (0)\n');
  await assert.rejects(formatRows(rows, '{{.Nope}}', '', heads), /can't evaluate field Nope/);
});

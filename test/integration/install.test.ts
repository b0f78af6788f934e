// What the README's install step ships: the systemd units (verified, and socket activation run for real
// with systemd-socket-activate), the demo the README runs, and bash completion.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BERTH, isRoot, run } from '../helpers/bundle.js';
import { berthdPath, pingSocket } from '../helpers/daemon.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const has = (tool: string) => (process.env.PATH ?? '').split(':').some((d) => fs.existsSync(path.join(d, tool)));

describe('install: systemd units, socket activation, demo, completion', { skip: !isRoot && 'needs root' }, () => {
  let dir: string, sock: string, env: NodeJS.ProcessEnv, daemon: ChildProcess | undefined;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-install-'));
    sock = path.join(dir, 'berth.sock');
    // `berth` on PATH, as npm link puts it
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.writeFileSync(path.join(dir, 'bin', 'berth'), `#!/bin/sh\nexec ${process.execPath} ${BERTH} "$@"\n`, { mode: 0o755 });
    env = { ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, BERTH_HOST: `unix://${sock}`, DOCKER_HOST: `unix://${sock}` };
  });

  after(async () => {
    if (daemon && daemon.exitCode === null) {
      await run(process.execPath, [BERTH, 'rm', '-f', 'install-sleeper'], { env });
      const gone = new Promise((r) => daemon!.once('exit', r));
      daemon.kill('SIGTERM');
      await gone;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('berth.socket and berth.service pass systemd-analyze verify', { skip: !has('systemd-analyze') && 'systemd-analyze is not installed' }, async () => {
    const units = path.join(dir, 'units');
    fs.mkdirSync(units);
    const svc = fs.readFileSync(path.join(REPO, 'contrib/systemd/berth.service'), 'utf8');
    assert.match(svc, /^ExecStart=\S+ -H fd:\/\/$/m);
    assert.match(svc, /^KillMode=process$/m, 'containers outlive a restart of the service');
    fs.writeFileSync(path.join(units, 'berth.service'), svc.replace(/^ExecStart=\S+/m, `ExecStart=${berthdPath()}`));
    fs.copyFileSync(path.join(REPO, 'contrib/systemd/berth.socket'), path.join(units, 'berth.socket'));
    const r = await run('systemd-analyze', ['verify', '--man=no', path.join(units, 'berth.socket'), path.join(units, 'berth.service')]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /berth\.(socket|service)/, r.stderr);
  });

  test('berthd -H fd:// serves the socket it is handed, and its children do not inherit the activation', { skip: !has('systemd-socket-activate') && 'systemd-socket-activate is not installed' }, async () => {
    daemon = spawn('systemd-socket-activate', ['-l', sock, berthdPath(), '-H', 'fd://', '--root', path.join(dir, 'root'), '--pidfile', path.join(dir, 'berthd.pid')], { stdio: 'ignore' });
    // up to 30 s as helpers/daemon allows: a loaded 2-core machine can take more than the 5 s this had to answer
    for (const end = Date.now() + 30_000; Date.now() < end && (await pingSocket(sock)) !== 200;) await new Promise((r) => setTimeout(r, 25));
    assert.equal(await pingSocket(sock), 200);
    // the README's main job, through this daemon
    const demo = await run('bash', [path.join(REPO, 'scripts/demo.sh')], { env });
    assert.equal(demo.code, 0, demo.stderr);
    assert.equal(demo.stdout, 'hello from a Berth container\n');
    const started = await run(process.execPath, [BERTH, 'run', '-d', '--name', 'install-sleeper', 'busybox', 'sleep', '60'], { env });
    assert.equal(started.code, 0, started.stderr);
    const monitors = fs.readFileSync(`/proc/${daemon.pid}/task/${daemon.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    assert.ok(monitors.length > 0);
    const listener = fs.readlinkSync(`/proc/${daemon.pid}/fd/3`);
    for (const m of monitors) {
      const environ = fs.readFileSync(`/proc/${m}/environ`, 'utf8');
      assert.doesNotMatch(environ, /LISTEN_(FDS|PID)=/);
      const fds = fs.readdirSync(`/proc/${m}/fd`).map((f) => { try { return fs.readlinkSync(`/proc/${m}/fd/${f}`); } catch { return ''; } });
      assert.ok(!fds.includes(listener), `monitor ${m} holds the API socket`);
    }
  });

  test('bash completion: commands, subcommands, flags from --help, container names from the daemon', { skip: !has('systemd-socket-activate') && 'needs the daemon of the test before' }, async () => {
    const complete = async (words: string[]) => {
      const script = `source ${path.join(REPO, 'contrib/completion/berth.bash')}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _berth; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const r = await run('bash', ['-c', script], { env });
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.split('\n').filter(Boolean).sort();
    };
    assert.ok((await complete(['berth', 'ru'])).includes('run'));
    assert.deepEqual(await complete(['berth', 'image', 'l']), ['list', 'load', 'ls']);
    assert.deepEqual(await complete(['berth', 'run', '--deta']), ['--detach', '--detach-keys']);
    assert.deepEqual(await complete(['berth', 'rm', 'install-sl']), ['install-sleeper']);
    assert.ok((await complete(['berth', 'run', 'busy'])).includes('busybox:latest'));
  });
});

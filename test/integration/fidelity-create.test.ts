// Create refuses what dockerd refuses at create (moby validateContainerConfig / verifyPlatformContainerSettings),
// with its wording, and nothing is left behind; before, these were accepted and failed (or were ignored) at start.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH, isRoot, run } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

function call(socket: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: p, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let b = '';
      res.on('data', (c) => { b += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body: b }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('create: docker\'s refusals', { skip: !isRoot && 'needs root' }, () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
    const r = await run('sh', ['-c', `tar -C ${await busyboxRootfs()} -c . | ${process.execPath} ${BERTH} import - busybox`], { env: d.env });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => { await d?.stop(); });

  test('each bad setting is a 400 naming it, and no container, snapshot or volume is left', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ Env: ['=foo'] }, /^invalid environment variable: =foo$/],
      [{ WorkingDir: 'relative' }, /the working directory 'relative' is invalid, it needs to be an absolute path/],
      [{ StopSignal: 'SIGBOGUS' }, /Invalid signal: SIGBOGUS/],
      [{ HostConfig: { Tmpfs: { '/': '' } } }, /destination can't be '\/'/],
      [{ HostConfig: { CapAdd: ['NOPE'] } }, /^invalid CapAdd: unknown capability: "CAP_NOPE"$/],
      [{ HostConfig: { CapDrop: ['NOPE'] } }, /^invalid CapDrop: unknown capability: "CAP_NOPE"$/],
      [{ HostConfig: { SecurityOpt: ['foo'] } }, /^invalid --security-opt 1: "foo"$/],
      [{ HostConfig: { SecurityOpt: ['foo=bar'] } }, /^invalid --security-opt 2: "foo=bar"$/],
      [{ HostConfig: { CpusetCpus: '4096' } }, /^Requested CPUs are not available - requested 4096, available: /],
      [{ HostConfig: { Binds: [`${d.dir}/vol-src:/data`], Tmpfs: { '/': '' } } }, /destination can't be '\/'/],
    ];
    for (const [extra, re] of cases) {
      const body = { Image: 'busybox', Cmd: ['true'], ...extra };
      const r = await call(d.socket, 'POST', '/v1.41/containers/create', body);
      assert.equal(r.status, 400, `${JSON.stringify(extra)}: ${r.body}`);
      assert.match(JSON.parse(r.body).message, re);
    }
    const list = await call(d.socket, 'GET', '/containers/json?all=1');
    assert.deepEqual(JSON.parse(list.body), []);
    assert.deepEqual(fs.readdirSync(path.join(d.root, 'containers')), []);
    assert.ok(!fs.existsSync(`${d.dir}/vol-src`), 'a bind source is not made for a refused container');
  });

  test('what docker accepts on a host without SELinux/AppArmor still runs', async () => {
    const r = await run(process.execPath, [BERTH, 'run', '--rm', '--security-opt', 'label=disable', '--security-opt', 'apparmor=unconfined', '--security-opt', 'no-new-privileges', 'busybox', 'sh', '-c', 'grep NoNewPrivs /proc/self/status'], { env: d.env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /NoNewPrivs:\s+1/);
  });

  test('--group-add joins groups', async () => {
    const r = await run(process.execPath, [BERTH, 'run', '--rm', '--group-add', '123', '--group-add', 'root', 'busybox', 'sh', '-c', 'id -G'], { env: d.env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split(' ').sort(), ['0', '123']);
    const inspect = await run(process.execPath, [BERTH, 'create', '--group-add', '55', 'busybox', 'true'], { env: d.env });
    const hc = await call(d.socket, 'GET', `/containers/${inspect.stdout.trim()}/json`);
    assert.deepEqual(JSON.parse(hc.body).HostConfig.GroupAdd, ['55']);
    await run(process.execPath, [BERTH, 'rm', inspect.stdout.trim()], { env: d.env });
    const bad = await run(process.execPath, [BERTH, 'run', '--rm', '--group-add', 'nosuchgroup', 'busybox', 'true'], { env: d.env });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Unable to find group nosuchgroup/);
  });

  test('inspect has every field dockerd 20.10 reports for a plain container, with its zero values', async () => {
    // the keys Debian's dockerd 20.10.24 answers for `docker create busybox sleep 5`
    const DOCKERD = {
      top: 'AppArmorProfile Args Config Created Driver ExecIDs GraphDriver HostConfig HostnamePath HostsPath Id Image LogPath MountLabel Mounts Name NetworkSettings Path Platform ProcessLabel ResolvConfPath RestartCount State',
      HostConfig: 'AutoRemove Binds BlkioDeviceReadBps BlkioDeviceReadIOps BlkioDeviceWriteBps BlkioDeviceWriteIOps BlkioWeight BlkioWeightDevice CapAdd CapDrop Cgroup CgroupParent CgroupnsMode ConsoleSize ContainerIDFile CpuCount CpuPercent CpuPeriod CpuQuota CpuRealtimePeriod CpuRealtimeRuntime CpuShares CpusetCpus CpusetMems DeviceCgroupRules DeviceRequests Devices Dns DnsOptions DnsSearch ExtraHosts GroupAdd IOMaximumBandwidth IOMaximumIOps IpcMode Isolation KernelMemory KernelMemoryTCP Links LogConfig MaskedPaths Memory MemoryReservation MemorySwap MemorySwappiness NanoCpus NetworkMode OomKillDisable OomScoreAdj PidMode PidsLimit PortBindings Privileged PublishAllPorts ReadonlyPaths ReadonlyRootfs RestartPolicy Runtime SecurityOpt ShmSize UTSMode Ulimits UsernsMode VolumeDriver VolumesFrom',
      Config: 'AttachStderr AttachStdin AttachStdout Cmd Domainname Entrypoint Env Hostname Image Labels OnBuild OpenStdin StdinOnce Tty User Volumes WorkingDir',
      State: 'Dead Error ExitCode FinishedAt OOMKilled Paused Pid Restarting Running StartedAt Status',
    };
    const created = await run(process.execPath, [BERTH, 'create', 'busybox', 'sleep', '5'], { env: d.env });
    const id = created.stdout.trim();
    try {
      const j = JSON.parse((await call(d.socket, 'GET', `/containers/${id}/json`)).body) as Record<string, Record<string, unknown>>;
      const missing = (have: object, want: string) => want.split(' ').filter((k) => !(k in have));
      assert.deepEqual(missing(j, DOCKERD.top), []);
      for (const part of ['HostConfig', 'Config', 'State'] as const) assert.deepEqual(missing(j[part]!, DOCKERD[part]), [], part);
      assert.ok(!('Init' in j.HostConfig!), 'Init is left out unless set, as dockerd omits a nil *bool');
      assert.ok((j.HostConfig!.MaskedPaths as string[]).includes('/proc/kcore'));
      assert.deepEqual(j.HostConfig!.ReadonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
      assert.deepEqual(j.HostConfig!.BlkioDeviceReadBps, []);
    } finally { await run(process.execPath, [BERTH, 'rm', id], { env: d.env }); }
    const priv = await run(process.execPath, [BERTH, 'create', '--privileged', 'busybox', 'true'], { env: d.env });
    const p = JSON.parse((await call(d.socket, 'GET', `/containers/${priv.stdout.trim()}/json`)).body) as { HostConfig: { MaskedPaths: unknown; ReadonlyPaths: unknown } };
    assert.equal(p.HostConfig.MaskedPaths, null);
    assert.equal(p.HostConfig.ReadonlyPaths, null);
    await run(process.execPath, [BERTH, 'rm', priv.stdout.trim()], { env: d.env });
  });

  test('older API versions get the answers dockerd 20.10 gives them', async () => {
    const ids: string[] = [];
    try {
      const mk = async (v: string, extra: Record<string, unknown> = {}) => {
        const r = await call(d.socket, 'POST', `/v${v}/containers/create`, { Image: 'busybox', Cmd: ['true'], HostConfig: { CpusetCpus: '0' }, ...extra });
        assert.equal(r.status, 201, r.body);
        ids.push(JSON.parse(r.body).Id);
        return ids[ids.length - 1]!;
      };
      const ipc = async (id: string) => (JSON.parse((await call(d.socket, 'GET', `/containers/${id}/json`)).body) as { HostConfig: { IpcMode: string } }).HostConfig.IpcMode;
      assert.equal(await ipc(await mk('1.39')), 'shareable');
      const current = await mk('1.41');
      assert.equal(await ipc(current), 'private');
      // 1.19: kill of a container that is not running is no error; later versions say 409
      assert.equal((await call(d.socket, 'POST', `/v1.19/containers/${current}/kill`)).status, 204);
      assert.equal((await call(d.socket, 'POST', `/v1.41/containers/${current}/kill`)).status, 409);
      const old = JSON.parse((await call(d.socket, 'GET', `/v1.19/containers/${current}/json`)).body) as { Config: Record<string, unknown>; Volumes?: object; Mounts?: unknown };
      assert.equal(old.Config.Cpuset, '0');
      assert.ok('Memory' in old.Config && 'Volumes' in old && !('Mounts' in old));
      const now = JSON.parse((await call(d.socket, 'GET', `/v1.41/containers/${current}/json`)).body) as { Config: Record<string, unknown> };
      assert.ok(!('Cpuset' in now.Config));
      const tooOld = await call(d.socket, 'GET', '/v1.11/version');
      assert.equal(tooOld.status, 400);
      assert.match(JSON.parse(tooOld.body).message, /client version 1.11 is too old. Minimum supported API version is 1.12/);
      assert.equal((await call(d.socket, 'GET', '/v1.12/version')).status, 200);
    } finally {
      for (const id of ids) await call(d.socket, 'DELETE', `/containers/${id}?force=1`);
    }
  });

  test('platforms and tags: a mismatched platform is 404, a bad one 400 before any network, a digest-like tag 400', async () => {
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    const other = arch === 'amd64' ? 'arm64' : 'amd64';
    const mismatch = await call(d.socket, 'POST', `/v1.41/containers/create?platform=linux/${other}`, { Image: 'busybox', Cmd: ['true'] });
    assert.equal(mismatch.status, 404, mismatch.body);
    assert.match(JSON.parse(mismatch.body).message, new RegExp(`^image with reference busybox was found but does not match the specified platform: wanted linux/${other}(/v8)?, actual: linux/${arch}$`));
    const match = await call(d.socket, 'POST', `/v1.41/containers/create?platform=linux/${arch}`, { Image: 'busybox', Cmd: ['true'] });
    assert.equal(match.status, 201, match.body);
    await call(d.socket, 'DELETE', `/containers/${JSON.parse(match.body).Id}`);
    // a platform that is no platform: 400 at once (the pull would otherwise go to Docker Hub)
    const pull = await call(d.socket, 'POST', '/v1.41/images/create?fromImage=example.invalid/x&tag=latest&platform=foobar');
    assert.equal(pull.status, 400, pull.body);
    assert.equal(JSON.parse(pull.body).message, '"foobar": unknown operating system or architecture: invalid argument');
    for (const repo of ['sha256:abc', 'sha256']) {
      const t = await call(d.socket, 'POST', `/images/busybox/tag?repo=${encodeURIComponent(repo)}&tag=x`);
      assert.equal(t.status, 400, `${repo}: ${t.body}`);
      assert.equal(JSON.parse(t.body).message, 'refusing to create an ambiguous tag using digest algorithm as name');
    }
    const hex = 'a'.repeat(64);
    const h = await call(d.socket, 'POST', `/images/busybox/tag?repo=${hex}`);
    assert.equal(h.status, 400);
    assert.match(JSON.parse(h.body).message, /cannot specify 64-byte hexadecimal strings/);
    const images = JSON.parse((await call(d.socket, 'GET', '/images/json')).body) as Array<{ RepoTags: string[] }>;
    assert.deepEqual(images.flatMap((i) => i.RepoTags), ['busybox:latest'], 'no tag was made');
  });

  test('a container with its own network namespace gets docker\'s default network sysctls; --network host keeps the host\'s', async () => {
    const own = await run(process.execPath, [BERTH, 'run', '--rm', '-u', '65534', 'busybox', 'sh', '-c', 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ping_group_range; nc -l -p 80 & sleep 0.3; kill $! && echo bound'], { env: d.env });
    assert.equal(own.code, 0, own.stderr);
    assert.deepEqual(own.stdout.trim().split('\n').map((l) => l.replace(/\s+/g, ' ')), ['0', '0 2147483647', 'bound']);
    const host = await run(process.execPath, [BERTH, 'run', '--rm', '--network', 'host', 'busybox', 'cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start'], { env: d.env });
    assert.equal(host.code, 0, host.stderr);
    assert.equal(host.stdout.trim(), fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
  });
});

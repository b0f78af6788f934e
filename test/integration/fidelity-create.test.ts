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

  test('--group-add joins groups; a missing working directory is made, as runc makes it', async () => {
    const r = await run(process.execPath, [BERTH, 'run', '--rm', '--group-add', '123', '--group-add', 'root', '-w', '/made/by/runtime', 'busybox', 'sh', '-c', 'id -G; pwd; stat -c %a /made/by/runtime'], { env: d.env });
    assert.equal(r.code, 0, r.stderr);
    const [groups, cwd, mode] = r.stdout.trim().split('\n');
    assert.deepEqual(groups!.split(' ').sort(), ['0', '123']);
    assert.equal(cwd, '/made/by/runtime');
    assert.equal(mode, '755');
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
});

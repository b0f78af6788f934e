// Request validation (api/schema): the malformed bodies are 400s naming the field; what real
// clients send passes (bodies captured from docker CLI 28.2.2 and docker-py 7.1 against a stub
// socket); query values are typed per route; every served route has a table entry; deep JSON is a 400.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonDepth, parseJson } from '../../src/api/http.js';
import { HijackRoutes } from '../../src/api/hijack.js';
import { checkBody, checkQuery, fieldPath, HIJACK_ROUTES, ROUTES, type BodyName } from '../../src/api/schema/index.js';
import { buildRouter, type ApiServices } from '../../src/api/server.js';
import { execRoutes } from '../../src/api/routes/exec.js';
import { containerRoutes } from '../../src/api/routes/containers.js';
import { Router } from '../../src/api/router.js';
import { BerthError } from '../../src/errors.js';

async function rejects(name: BodyName, body: unknown, message: RegExp): Promise<void> {
  await assert.rejects(checkBody(name, body), (e: BerthError) => {
    assert.equal(e.kind, 'InvalidArgument');
    assert.match(e.message, message);
    return true;
  });
}

/** `docker create -it --rm -e A=b -l x=y -v /tmp:/x:ro --memory 64m … busybox` (docker CLI 28.2.2) */
const DOCKER_CLI_CREATE = '{"Hostname":"h","Domainname":"","User":"1000","AttachStdin":true,"AttachStdout":true,"AttachStderr":true,"ExposedPorts":{"80/tcp":{}},"Tty":true,"OpenStdin":true,"StdinOnce":true,"Env":["A=b"],"Cmd":null,"Healthcheck":{"Test":["CMD-SHELL","true"]},"Image":"busybox","Volumes":{},"WorkingDir":"/tmp","Entrypoint":["sh"],"OnBuild":null,"Labels":{"x":"y"},"StopTimeout":5,"HostConfig":{"Binds":["/tmp:/x:ro"],"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"none","PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"8080"}]},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":true,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":["CAP_NET_ADMIN"],"CapDrop":null,"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":100,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":true,"SecurityOpt":null,"Tmpfs":{"/run":""},"UTSMode":"","UsernsMode":"","ShmSize":134217728,"Sysctls":{"net.ipv4.ip_forward":"1"},"Isolation":"","CpuShares":0,"Memory":67108864,"NanoCpus":1500000000,"CgroupParent":"","BlkioWeight":300,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":134217728,"MemorySwappiness":10,"OomKillDisable":false,"PidsLimit":100,"Ulimits":[{"Name":"nofile","Hard":2048,"Soft":1024}],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null,"Init":true},"NetworkingConfig":{"EndpointsConfig":{}}}';
/** `docker create --name c1 busybox echo hi`: the defaults, MemorySwappiness -1, a full EndpointSettings */
const DOCKER_CLI_CREATE_PLAIN = '{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["echo","hi"],"Image":"busybox","Volumes":{},"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{},"HostConfig":{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"default","PortBindings":{},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":null,"CapDrop":null,"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":-1,"OomKillDisable":false,"PidsLimit":0,"Ulimits":[],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null},"NetworkingConfig":{"EndpointsConfig":{"default":{"IPAMConfig":null,"Links":null,"Aliases":null,"MacAddress":"","DriverOpts":null,"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}}}}';
/** docker-py: create_container with a host config and a healthcheck (nulls inside Healthcheck) */
const DOCKER_PY_CREATE = '{"Tty": false, "OpenStdin": false, "StdinOnce": false, "AttachStdin": false, "AttachStdout": true, "AttachStderr": true, "Env": ["A=1"], "Cmd": ["echo", "hi"], "Image": "busybox", "NetworkDisabled": false, "HostConfig": {"Memory": 67108864, "NetworkMode": "default", "RestartPolicy": {"Name": "no"}, "Binds": ["/tmp:/x"], "Ulimits": [{"Name": "nofile", "Soft": 10, "Hard": 20}]}, "Labels": {"a": "b"}, "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 1000000000, "Timeout": null, "Retries": null, "StartPeriod": null}}';

test('schema: what docker CLI 28, docker-py and compose-style clients send passes', async () => {
  for (const b of [DOCKER_CLI_CREATE, DOCKER_CLI_CREATE_PLAIN, DOCKER_PY_CREATE]) await checkBody('containerCreate', JSON.parse(b));
  // nulls clients send for "unset", string Cmd/Entrypoint (strslice), unknown fields, older fields
  await checkBody('containerCreate', {
    Image: 'x', Cmd: 'echo hi', Entrypoint: '', Env: null, Labels: null, Healthcheck: null, NetworkingConfig: null, Volumes: null, ExposedPorts: null,
    MacAddress: null, StopTimeout: null, StopSignal: null, Domainname: null, SomethingNew: { a: [1] },
    HostConfig: { Binds: null, PidsLimit: null, Init: null, MemorySwappiness: null, OomKillDisable: null, KernelMemory: 0, ConsoleSize: null, Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1 << 20, Mode: 0o1777 } }] },
  });
  await checkBody('containerCreate', null);
  await checkBody('containerCreate', { Image: 'x', HostConfig: { Memory: 9223372036854775807, MemorySwap: -1 } });
  await checkBody('execCreate', JSON.parse('{"User":"root","Privileged":false,"Tty":false,"AttachStdin":false,"AttachStderr":true,"AttachStdout":true,"Detach":false,"DetachKeys":"","Env":["A=1"],"WorkingDir":"/","Cmd":["ls"]}'));
  await checkBody('execCreate', JSON.parse('{"Container": "x", "User": "root", "Privileged": false, "Tty": false, "AttachStdin": false, "AttachStdout": true, "AttachStderr": true, "Cmd": ["ls"]}'));
  await checkBody('execCreate', { Cmd: ['ls'], ConsoleSize: [24, 80], Env: null });
  await checkBody('execStart', { Detach: false, Tty: false, ConsoleSize: [24, 80] });
  await checkBody('execStart', { Detach: true, Tty: false, ConsoleSize: null });
  await checkBody('authConfig', { username: 'u', password: 'p', serveraddress: 'localhost:5000', email: null });
});

test('schema: the issue\'s malformed bodies are 400s naming the field', async () => {
  await rejects('containerCreate', { Image: 'x', HostConfig: { Binds: '/tmp:/x' } }, /^invalid type for HostConfig\.Binds: expected array, got string$/);
  await rejects('containerCreate', { Image: 'x', Labels: 'x' }, /^invalid type for Labels: expected object, got string$/);
  await rejects('containerCreate', { Image: 'x', HostConfig: { Memory: 'x' } }, /^invalid type for HostConfig\.Memory: expected integer, got string$/);
  await rejects('containerCreate', { Image: 'x', Tty: 'yes' }, /^invalid type for Tty: expected boolean, got string$/);
  await rejects('containerCreate', { Image: 'x', HostConfig: { Ulimits: 'x' } }, /HostConfig\.Ulimits: expected array/);
  await rejects('containerCreate', { Image: 'x', HostConfig: { Ulimits: [{ Name: 'nofile', Soft: 1.5, Hard: 2 }] } }, /HostConfig\.Ulimits\[0\]\.Soft: expected integer, got number/);
  await rejects('containerCreate', { Image: 'x', HostConfig: { Memory: 1e30 } }, /HostConfig\.Memory: 1e\+30 is out of range \(must be <= 9223372036854775807\)/);
  await rejects('containerCreate', { Image: 'x', HostConfig: { BlkioWeight: -1 } }, /HostConfig\.BlkioWeight: -1 is out of range \(must be >= 0\)/);
  await rejects('containerCreate', { Image: 'x', Labels: { 'a/b': 5 } }, /Labels\["a\/b"\]: expected string, got integer/);
  await rejects('containerCreate', { Image: 'x', Env: ['A=1', null] }, /Env\[1\]: expected string, got null/);
  await rejects('containerCreate', { Image: 'x', Cmd: { a: 1 } }, /Cmd: expected string or array, got object/);
  await rejects('containerCreate', { Image: 'x', NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: 'a' } } } }, /NetworkingConfig\.EndpointsConfig\.bridge\.Aliases: expected array/);
  await rejects('containerCreate', [1], /^invalid type for request body: expected object, got array$/);
  await rejects('execCreate', { Cmd: [1] }, /^invalid type for Cmd\[0\]: expected string, got integer$/);
  await rejects('execCreate', { Cmd: ['ls'], User: 5 }, /^invalid type for User: expected string, got integer$/);
  await rejects('execStart', { Detach: 'yes' }, /Detach: expected boolean/);
  await rejects('execStart', { ConsoleSize: [1, 2, 3] }, /ConsoleSize: expected at most 2 items/);
  await rejects('authConfig', { username: ['u'] }, /username: expected string, got array/);
  await rejects('authConfig', { username: 'u', password: 'x'.repeat(65537) }, /^invalid value for password: longer than 65536 characters$/);
});

test('schema: field paths', () => {
  assert.equal(fieldPath(''), 'request body');
  assert.equal(fieldPath('/HostConfig/Ulimits/0/Soft'), 'HostConfig.Ulimits[0].Soft');
  assert.equal(fieldPath('/Labels/a~1b'), 'Labels["a/b"]');
  assert.equal(fieldPath('/NetworkingConfig/EndpointsConfig/my-net/Aliases'), 'NetworkingConfig.EndpointsConfig.my-net.Aliases');
});

test('schema: query values are typed per route', () => {
  const ok = (route: string, q: string) => checkQuery(ROUTES[route], new URLSearchParams(q));
  const bad = (route: string, q: string, m: RegExp) => assert.throws(() => ok(route, q), (e: BerthError) => e.kind === 'InvalidArgument' && m.test(e.message));
  // what clients send: docker CLI 1/0, docker-py True/False, curl true
  ok('GET /containers/json', 'all=1&size=0&limit=5&filters={"status":["exited"]}');
  ok('GET /containers/json', 'all=True&size=False&unknown=whatever');
  ok('DELETE /containers/{id}', 'v=true&force=1&link=false');
  ok('POST /containers/{id}/stop', 't=3000000&signal=SIGTERM');
  ok('POST /containers/{id}/stop', 't=-1');
  ok('GET /containers/{id}/logs', 'stdout=1&tail=all&since=0&until=1700000000.5');
  ok('GET /containers/{id}/logs', 'tail=-1&since=10m');
  ok('POST /containers/{id}/wait', 'condition=next-exit');
  ok('POST /build', 'version=&t=x');  // empty is the default (moby's build client sends version=)
  bad('GET /containers/json', 'all=maybe', /query parameter all: "maybe": expected a boolean/);
  bad('GET /containers/json', 'limit=x', /query parameter limit: "x": expected an integer/);
  bad('GET /containers/json', 'limit=99999999999999999999', /limit: .*expected an integer/);
  bad('GET /containers/json', 'filters={bad', /invalid filter/);
  bad('POST /containers/{id}/stop', 't=1.5', /query parameter t: "1.5"/);
  bad('POST /containers/{id}/wait', 'condition=soon', /query parameter condition: "soon": must be one of "not-running", "next-exit", "removed"/);
  ok('GET /containers/{id}/logs', 'tail=some'); // moby 28 (daemon/logs.go): a tail Atoi refuses means every line, no 400
  bad('GET /containers/{id}/logs', 'since=yesterday', /invalid timestamp/);
  bad('GET /events', 'filters=[1]', /invalid filter/);
  bad('POST /containers/{id}/attach', 'stream=2x', /query parameter stream/);
});

test('schema: every route berthd serves has an entry, and every entry is served', () => {
  const fake = { containers: undefined } as unknown as ApiServices;
  const served = new Set(buildRouter(fake).list());
  const hijack = new HijackRoutes();
  containerRoutes(new Router(), fake, hijack);
  execRoutes(new Router(), fake, hijack);
  for (const r of HIJACK_ROUTES) assert.ok(hijack.match('POST', r.split(' ')[1]!.replace(/\{id\}/, 'x')), `${r} is hijacked`);
  for (const r of served) assert.ok(ROUTES[r], `${r} has a schema entry`);
  for (const r of Object.keys(ROUTES)) assert.ok(served.has(r), `${r} is served`);
});

test('json: depth is measured outside strings; too deep is a 400 before any recursion', () => {
  assert.equal(jsonDepth('{"a":[1,{"b":"[[[["}]}'), 3);
  assert.equal(jsonDepth('"\\"[[["'), 0);
  assert.equal(jsonDepth('[]'), 1);
  assert.deepEqual(parseJson('{"a":[[1]]}'), { a: [[1]] });
  const deep = '['.repeat(5000) + ']'.repeat(5000);
  assert.throws(() => parseJson(deep), (e: BerthError) => e.kind === 'InvalidArgument' && /nested more than 100 levels/.test(e.message));
  assert.throws(() => parseJson('{"a":'), (e: BerthError) => e.kind === 'InvalidArgument' && /^invalid JSON/.test(e.message));
});

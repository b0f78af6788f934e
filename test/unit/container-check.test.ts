import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkConfig, parseCpuList } from '../../src/containers/check.js';
import type { ContainerConfig } from '../../src/containers/config.js';

const host = { cpus: '0-1', mems: '0' };
const cfg = (x: Partial<ContainerConfig> = {}, h: ContainerConfig['host'] = {}): ContainerConfig => ({ image: 'busybox', cmd: ['true'], ...x, host: h });
const refuses = (c: ContainerConfig, re: RegExp) => assert.throws(() => checkConfig(c, host), (e: Error & { kind?: string }) => re.test(e.message) && e.kind === 'InvalidArgument', re.source);

test('cpu lists parse in the kernel format', () => {
  assert.deepEqual([...parseCpuList('0-2,5')!], [0, 1, 2, 5]);
  for (const b of ['', 'a', '1-', '3-1', '1,,2', '-1']) assert.equal(parseCpuList(b), undefined, b);
});

test('create refuses what dockerd refuses, in its words', () => {
  checkConfig(cfg({ env: ['A=1', 'B', 'C='], workingDir: '/w', stopSignal: 'SIGUSR1' }, { cpusetCpus: '0-1', cpusetMems: '0', capAdd: ['net_admin', 'ALL'], capDrop: ['CAP_CHOWN'], tmpfs: { '/run': 'size=1m' } }), host);
  refuses(cfg({ env: ['=foo'] }), /^invalid environment variable: =foo$/);
  refuses(cfg({ env: [''] }), /^invalid environment variable: $/);
  refuses(cfg({ workingDir: 'rel/dir' }), /^the working directory 'rel\/dir' is invalid, it needs to be an absolute path$/);
  refuses(cfg({ stopSignal: 'SIGNOPE' }), /^Invalid signal: SIGNOPE$/);
  refuses(cfg({}, { tmpfs: { '/': '' } }), /destination can't be '\/'/);
  refuses(cfg({}, { tmpfs: { '/a/..': '' } }), /destination can't be '\/'/);
  refuses(cfg({}, { tmpfs: { 'rel': '' } }), /invalid mount path: 'rel' mount path must be absolute/);
  refuses(cfg({}, { cpusetCpus: '0-7' }), /^Requested CPUs are not available - requested 0-7, available: 0-1$/);
  refuses(cfg({}, { cpusetCpus: 'x' }), /^Invalid value x for cpuset cpus/);
  refuses(cfg({}, { cpusetMems: '3' }), /^Requested memory nodes are not available - requested 3, available: 0$/);
  refuses(cfg({}, { capAdd: ['NOPE'] }), /^invalid CapAdd: unknown capability: "CAP_NOPE"$/);
  refuses(cfg({}, { capDrop: ['cap_nope'] }), /^invalid CapDrop: unknown capability: "CAP_NOPE"$/);
  refuses(cfg({}, { securityOpt: ['bogus'] }), /^invalid --security-opt 1: "bogus"$/);
});

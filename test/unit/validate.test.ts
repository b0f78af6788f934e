// config.json validation: every refusal names the field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSpec } from '../../src/runtime/defaults.js';
import type { Spec } from '../../src/runtime/spec-types.js';
import { validateSpec } from '../../src/runtime/validate.js';

function check(edit: (s: Spec & Record<string, unknown>) => void, message: RegExp): void {
  const s = defaultSpec() as Spec & Record<string, unknown>;
  edit(s);
  assert.throws(() => validateSpec(JSON.parse(JSON.stringify(s))), message);
}

test('the default spec is valid, and unknown properties are ignored', () => {
  const s = { ...defaultSpec(), futureField: { x: 1 } };
  assert.doesNotThrow(() => validateSpec(s));
});

test('refusals name the field', () => {
  check((s) => { s.ociVersion = '0.9'; }, /^BerthError: ociVersion: "0.9" is not a supported 1.x version/);
  check((s) => { delete s.root; }, /root: is required/);
  check((s) => { s.process!.args = []; }, /process\.args: must name the program to run/);
  check((s) => { s.process!.cwd = 'tmp'; }, /process\.cwd: "tmp" must be an absolute path/);
  check((s) => { (s.process!.user as unknown as Record<string, unknown>).uid = -1; }, /process\.user\.uid: -1 is out of range/);
  check((s) => { s.process!.env = ['NOEQUALS']; }, /process\.env\[0\]: "NOEQUALS" is not KEY=value/);
  check((s) => { s.process!.capabilities!.bounding = ['CAP_FLY']; }, /process\.capabilities\.bounding\[0\]: unknown capability "CAP_FLY"/);
  check((s) => { s.process!.rlimits = [{ type: 'RLIMIT_FOO', soft: 1, hard: 1 }]; }, /process\.rlimits\[0\]\.type: unknown rlimit "RLIMIT_FOO"/);
  check((s) => { s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 1 }]; }, /process\.rlimits\[0\]: soft limit 10 is above the hard limit 1/);
  check((s) => { s.process!.oomScoreAdj = 5000; }, /process\.oomScoreAdj: 5000 is out of range/);
  check((s) => { s.linux!.namespaces!.push({ type: 'pid' }); }, /linux\.namespaces\[6\]\.type: namespace "pid" is listed twice/);
  check((s) => { (s.linux!.namespaces![0] as unknown as Record<string, unknown>).type = 'pidd'; }, /linux\.namespaces\[0\]\.type: unknown namespace type "pidd"/);
  check((s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts'); }, /hostname: setting the hostname needs a uts namespace/);
  check((s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount'); }, /linux\.namespaces: unable to restrict sys entries without a private MNT namespace/);
  check((s) => { s.linux!.namespaces!.push({ type: 'user' }); }, /linux\.uidMappings: a new user namespace needs uidMappings and gidMappings/);
  check((s) => { s.linux!.sysctl = { 'vm.swappiness': '10' }; }, /linux\.sysctl\["vm\.swappiness"\]: is not namespaced: it would change the host/);
  check((s) => { s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' }; s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network'); }, /needs a network namespace/);
  check((s) => { s.mounts![0]!.destination = 'proc'; }, /mounts\[0\]\.destination: "proc" must be an absolute path/);
  check((s) => { s.linux!.devices = [{ path: '/etc/x', type: 'c', major: 1, minor: 3 }]; }, /linux\.devices\[0\]\.path: "\/etc\/x" must be under \/dev/);
  check((s) => { s.linux!.intelRdt = {}; }, /linux\.intelRdt: Intel RDT is not supported/);
  check((s) => { s.linux!.namespaces!.push({ type: 'time' }); }, /time namespaces are not supported/);
  check((s) => { s.hooks = { prestart: [{ path: 'relative' }] }; }, /hooks\.prestart\[0\]\.path: "relative" must be an absolute path/);
  check((s) => { s.process!.apparmorProfile = 'docker-default'; }, /process\.apparmorProfile: AppArmor is not supported/);
});

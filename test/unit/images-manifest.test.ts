import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '../../src/content/digest.js';
import { detectType, MT, parseConfig, parseIndex, parseManifest, parsePlatform, selectPlatform } from '../../src/images/manifest.js';
import { chainIds } from '../../src/snapshots/chain.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const index = parseIndex(Buffer.from(JSON.stringify({
  schemaVersion: 2, mediaType: MT.ociIndex,
  manifests: [
    { mediaType: MT.ociManifest, digest: d('1'), size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
    { mediaType: MT.ociManifest, digest: d('2'), size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    { mediaType: MT.ociManifest, digest: d('3'), size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    { mediaType: MT.ociManifest, digest: d('4'), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
    { mediaType: 'application/vnd.in-toto+json', digest: d('5'), size: 1, platform: { os: 'unknown', architecture: 'unknown' } },
  ],
})));

test('platform selection picks os/arch/variant', () => {
  assert.equal(selectPlatform(index, parsePlatform('linux/amd64')).digest, d('4'));
  assert.equal(selectPlatform(index, parsePlatform('linux/arm64')).digest, d('3'));
  assert.equal(selectPlatform(index, parsePlatform('linux/arm/v6')).digest, d('1'));
  assert.equal(selectPlatform(index, parsePlatform('arm')).digest, d('2'));
  assert.throws(() => selectPlatform(index, parsePlatform('linux/s390x')), /no matching manifest for linux\/s390x/);
  assert.throws(() => parsePlatform('linux//x'), /"" is an invalid component of "linux\/\/x"/);
  // containerd platforms.Parse: a lone word must be a known OS or architecture
  assert.throws(() => parsePlatform('foobar'), /"foobar": unknown operating system or architecture: invalid argument$/);
  assert.deepEqual(parsePlatform('x86_64'), { os: 'linux', architecture: 'amd64' });
  assert.equal(parsePlatform('linux').os, 'linux');
  assert.throws(() => parsePlatform('linux/amd64/v1/x'), /cannot parse platform specifier/);
  assert.throws(() => parsePlatform('linux/am d64'), /is an invalid component/);
});

test('manifests, indexes and configs are validated', () => {
  assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":1}')), /schema 1 is no longer supported/);
  assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":2,"config":{"digest":"x"},"layers":[]}')), /invalid descriptor/);
  assert.throws(() => parseConfig(Buffer.from('{"rootfs":{"diff_ids":["nope"]}}')), /invalid diff ID/);
  assert.equal(detectType(Buffer.from('{"schemaVersion":2,"manifests":[]}')), MT.ociIndex);
  assert.equal(detectType(Buffer.from('{"schemaVersion":2,"config":{}}')), MT.ociManifest);
});

test('chain IDs follow the image spec', () => {
  const a = d('a'), b = d('b'), c = d('c');
  const ids = chainIds([a, b, c]);
  assert.equal(ids[0], a);
  assert.equal(ids[1], sha256(`${a} ${b}`));
  assert.equal(ids[2], sha256(`${ids[1]} ${c}`));
});

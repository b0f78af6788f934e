import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { homeOf, readInRoot, resolveInRoot } from '../../src/util/in-root.js';

test('symlinks resolve inside the root, never outside it', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inroot-'));
  try {
    fs.mkdirSync(path.join(root, 'etc'));
    fs.mkdirSync(path.join(root, 'real'));
    fs.writeFileSync(path.join(root, 'real/passwd'), 'root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n');
    fs.symlinkSync('/real/passwd', path.join(root, 'etc/passwd'));   // absolute: means <root>/real/passwd
    fs.symlinkSync('../../../../etc/hostname', path.join(root, 'etc/escape')); // .. stops at the root
    fs.symlinkSync('/etc/shadow', path.join(root, 'etc/shadow'));
    assert.equal(resolveInRoot(root, '/etc/passwd'), path.join(root, 'real/passwd'));
    assert.equal(resolveInRoot(root, '/etc/escape'), undefined, 'resolves to <root>/etc/hostname, which is missing');
    assert.equal(readInRoot(root, '/etc/shadow'), undefined, 'the host /etc/shadow is never read');
    fs.symlinkSync('loop', path.join(root, 'loop'));
    assert.equal(resolveInRoot(root, '/loop'), undefined);
    assert.equal(homeOf(root, 1000), '/home/u');
    assert.equal(homeOf(root, 5), undefined);
  } finally { fs.rmSync(root, { recursive: true }); }
});

// util/fs unlinkIfThere: removes a file or a symlink (itself, not its target); a missing path is no error.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { unlinkIfThere } from '../../src/util/fs.js';

test('unlinkIfThere removes a file or a symlink itself; a missing path is no error; a directory is refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unlink-'));
  try {
    const file = path.join(dir, 'exit');
    fs.writeFileSync(file, '0');
    unlinkIfThere(file);
    assert.equal(fs.existsSync(file), false);
    unlinkIfThere(file); // gone: nothing to do
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'kept');
    const link = path.join(dir, 'link');
    const dangling = path.join(dir, 'dangling');
    fs.symlinkSync(target, link);
    fs.symlinkSync(path.join(dir, 'nowhere'), dangling);
    unlinkIfThere(link);
    unlinkIfThere(dangling);
    assert.equal(fs.lstatSync(link, { throwIfNoEntry: false }), undefined);
    assert.equal(fs.lstatSync(dangling, { throwIfNoEntry: false }), undefined, 'a dangling symlink is removed too');
    assert.equal(fs.readFileSync(target, 'utf8'), 'kept', 'the target of a symlink stays');
    fs.mkdirSync(path.join(dir, 'sub'));
    assert.throws(() => unlinkIfThere(path.join(dir, 'sub')), /EISDIR|EPERM/);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

// util/copy-in-root: copies a directory inside a container's root out to a host directory (a volume's
// first-mount copy-up, moby's copyExistingContents). The content is image-controlled, so the start is
// resolved by the confined walk (resolveInRoot: no symlink leads out of the root), and below it GNU cp -a
// walks without following any link (-P) and opens no special file (devices and FIFOs are made with
// mknod, as docker's copy does). cp rather than a walk in Node: it keeps what Node cannot read — extended
// attributes such as security.capability — with owners, modes, times and hard links.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../errors.js';
import { resolveInRoot } from './in-root.js';

export async function copyOutOfRoot(root: string, p: string, dest: string): Promise<void> {
  const inRoot = await resolveInRoot(root, p);
  const src = path.join(root, inRoot);
  let st: fs.Stats;
  try { st = fs.lstatSync(src); } catch { return; } // nothing at that path in the image
  if (!st.isDirectory()) return;
  // "src/." into "dest/": the contents, and the directory's own owner, mode and xattrs onto dest
  await new Promise<void>((resolve, reject) => {
    execFile('cp', ['-a', '--no-dereference', '--preserve=all', '--', `${src}/.`, `${dest}/`], (e, _out, err) => {
      if (e) reject(new BerthError('Internal', `copy ${p} from the image into the volume: ${String(err).trim() || e.message}`, { cause: e }));
      else resolve();
    });
  });
}

// test/helpers/images: the suite's busybox image imported into a test daemon, for tests that need an image to run
// and are not about how it got there.
import { Client } from '../../src/client/index.js';
import { tarDir } from './registry.js';
import { busyboxRootfs } from './rootfs.js';

/** Imports the busybox rootfs as REPO:TAG with CMD ["sh"] (plus `changes`), as `docker import -c 'CMD ["sh"]'` does. */
export async function importBusybox(d: { host: string }, ref: string, changes: string[] = []): Promise<void> {
  const colon = ref.lastIndexOf(':');
  const [repo, tag] = colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
  const tar = await tarDir(await busyboxRootfs(), false);
  const api = new Client(d.host);
  try {
    await api.importImage((async function* () { yield tar; })(), { repo, tag, changes: ['CMD ["sh"]', ...changes] });
  } finally { api.close(); }
}

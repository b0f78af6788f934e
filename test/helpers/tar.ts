// test/helpers/tar: a tar archive in memory from a list of entries, for layer tests.
import type { TarHeader } from '../../src/snapshots/tar-header.js';
import { TarWriter } from '../../src/snapshots/tar-writer.js';

export async function tarOf(entries: Array<[Partial<TarHeader> & { name: string }, Buffer?]>): Promise<Buffer> {
  const parts: Buffer[] = [];
  const w = new TarWriter((c) => { parts.push(Buffer.from(c)); });
  for (const [h, b] of entries) await w.entry(h, b);
  await w.finish();
  return Buffer.concat(parts);
}

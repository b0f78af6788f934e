// build/url-source: ADD's http(s) sources (moby builder/dockerfile/copy.go downloadSource): the file is
// fetched into a scratch directory under the URL path's last name, mode 0600, its time from
// Last-Modified, never extracted; BuildKit's `ADD --checksum=sha256:…` is verified before it is used.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../errors.js';
import type { CopySource } from './copy.js';

export async function downloadSource(url: string, dir: string, checksum?: string): Promise<CopySource> {
  let u: URL;
  try { u = new URL(url); } catch { throw new BerthError('InvalidArgument', `invalid URL in ADD: ${url}`); }
  const name = path.posix.basename(u.pathname) || '__unnamed__';
  if (name === '..' || name === '.') throw new BerthError('InvalidArgument', `cannot determine filename from url: ${url}`);
  if (checksum !== undefined && !/^sha256:[0-9a-f]{64}$/.test(checksum)) throw new BerthError('InvalidArgument', `invalid checksum digest format: ${checksum}`);
  let res: Response;
  try { res = await fetch(u, { redirect: 'follow' }); } catch (e) {
    throw new BerthError('Unavailable', `failed to GET ${url}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`, { cause: e });
  }
  if (res.status >= 400 || !res.body) {
    await res.body?.cancel();
    throw new BerthError('Unavailable', `failed to GET ${url} with status ${res.status} ${res.statusText}`);
  }
  const host = path.join(dir, name);
  const h = createHash('sha256');
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (c: Buffer) => h.update(c));
  await pipeline(body, fs.createWriteStream(host, { mode: 0o600 }));
  const digest = `sha256:${h.digest('hex')}`;
  if (checksum !== undefined && digest !== checksum) throw new BerthError('InvalidArgument', `digest mismatch for ${url}: ${digest} (expected ${checksum})`);
  fs.chmodSync(host, 0o600);
  const modified = Date.parse(res.headers.get('last-modified') ?? '');
  if (Number.isFinite(modified)) fs.utimesSync(host, modified / 1000, modified / 1000);
  return { orig: url, host, rel: name, st: fs.lstatSync(host), literal: true };
}

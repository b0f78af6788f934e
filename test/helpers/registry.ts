// test/helpers/registry: a throwaway Debian docker-registry on 127.0.0.1, and OCI layouts built with
// GNU tar + gzip (not Berth's code) so skopeo can push them as independent test images.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REGISTRY_BIN = '/usr/bin/docker-registry';

export function haveTool(p: string): boolean {
  return existsSync(p) || (process.env.PATH ?? '').split(':').some((d) => existsSync(path.join(d, p)));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface Registry { host: string; port: number; dir: string; stop(): Promise<void> }

export async function startRegistry(): Promise<Registry> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-registry-'));
  const port = await freePort();
  const cfg = path.join(dir, 'config.yml');
  await fs.writeFile(cfg, `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${dir}/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
`);
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const host = `127.0.0.1:${port}`;
  // a deadline, not a count of tries: on a loaded 2-core machine the registry can take several seconds to answer
  for (const end = Date.now() + 30_000; ;) {
    try {
      const r = await fetch(`http://${host}/v2/`);
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (child.exitCode !== null || Date.now() > end) {
      child.kill('SIGKILL');
      await fs.rm(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host, port, dir,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

function sha(b: Buffer): string { return 'sha256:' + createHash('sha256').update(b).digest('hex'); }

/** Layer tar made by GNU tar from a directory (numeric owners, sorted, fixed mtime), optionally gzipped. */
export async function tarDir(dir: string, gzip = true): Promise<Buffer> {
  const { stdout } = await run('sh', ['-c', `tar --sort=name --numeric-owner --xattrs -C "$1" -cf - . ${gzip ? '| gzip -n' : ''}`, 'sh', dir], { encoding: 'buffer', maxBuffer: 1 << 30 });
  return stdout as Buffer;
}

async function gunzip(b: Buffer): Promise<Buffer> {
  const { gunzipSync } = await import('node:zlib');
  return b[0] === 0x1f ? gunzipSync(b) : b;
}

/** Writes an OCI image layout with one image made of the given layer blobs (gzipped tars). */
export async function ociLayout(out: string, layers: Buffer[], opts: { tag?: string; cmd?: string[]; history?: boolean; diffIds?: string[] } = {}): Promise<{ manifestDigest: string; configDigest: string; diffIds: string[] }> {
  await fs.mkdir(path.join(out, 'blobs', 'sha256'), { recursive: true });
  const put = async (b: Buffer) => { const d = sha(b); await fs.writeFile(path.join(out, 'blobs', 'sha256', d.slice(7)), b); return d; };
  const diffIds: string[] = [];
  const descs = [];
  for (const l of layers) {
    // given diff IDs stand for layers that do not gunzip (a bad gzip stream behind a valid digest)
    diffIds.push(opts.diffIds?.[diffIds.length] ?? sha(await gunzip(l)));
    descs.push({ mediaType: l[0] === 0x1f ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar', digest: await put(l), size: l.length });
  }
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2024-01-02T03:04:05Z',
    config: { Cmd: opts.cmd ?? ['/bin/sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created: '2024-01-02T03:04:05Z', created_by: `layer ${i}` })),
  }));
  const configDigest = await put(config);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: descs }));
  const manifestDigest = await put(manifest);
  await fs.writeFile(path.join(out, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await fs.writeFile(path.join(out, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': opts.tag ?? 'latest' } }] }));
  return { manifestDigest, configDigest, diffIds };
}

export async function skopeo(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('skopeo', ['--insecure-policy', ...args], { maxBuffer: 64 << 20 });
    return stdout;
  } catch (e) {
    throw new Error(`skopeo ${args.join(' ')}: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`);
  }
}

/** Total bytes of the files under dir, counting each inode once (what the store really uses). */
export async function diskUse(dir: string): Promise<number> {
  const { stdout } = await run('du', ['-s', '--block-size=1', dir]);
  return Number(stdout.split(/\s/)[0]);
}

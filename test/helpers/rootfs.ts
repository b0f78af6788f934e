// test/helpers/rootfs: builds the suite's own fixtures (static probe, busybox rootfs) into a
// content-addressed cache; never touches the engine's state or anything outside the cache dir.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

const BUSYBOX = '/bin/busybox';
const GCC_ARGS = ['-static', '-O2', '-Wall', '-Wextra', '-Werror'];

// Root shares one cache; other users get their own, since root's dir is not writable to them.
export const CACHE_DIR =
  process.env.BERTH_TEST_CACHE ??
  (process.getuid?.() === 0 ? '/var/tmp/berth-test-cache' : `/var/tmp/berth-test-cache-${process.getuid?.()}`);

// Bump when the rootfs layout below changes, so old cached trees are not reused.
const LAYOUT_VERSION = '1';

const PASSWD =
  'root:x:0:0:root:/root:/bin/sh\n' +
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' +
  'berth:x:1000:1000:berth:/home/berth:/bin/sh\n';
const GROUP = 'root:x:0:\n' + 'nogroup:x:65534:\n' + 'nobody:x:65534:\n' + 'berth:x:1000:\n' + 'extra:x:1001:berth\n';
const HOSTNAME = 'berth\n';

/** Finds test/fixtures/probe.c whether running from test/helpers or dist/test/helpers. */
function probeSource(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'test', 'fixtures', 'probe.c');
    if (existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('probe.c not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

function sha256(...parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

function tmpName(final: string): string {
  return `${final}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** True if the ELF file has no PT_INTERP program header (static or static-pie). */
export async function isStaticElf(file: string): Promise<boolean> {
  const b = await fs.readFile(file);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file`);
  const is64 = b[4] === 2;
  const le = b[5] === 1;
  const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  // ELF header: e_phoff, e_phentsize, e_phnum (elf(5))
  const phoff = is64 ? u64(0x20) : u32(0x1c);
  const phentsize = is64 ? u16(0x36) : u16(0x2a);
  const phnum = is64 ? u16(0x38) : u16(0x2c);
  for (let i = 0; i < phnum; i++) {
    const off = phoff + i * phentsize;
    if (off + 4 > b.length) break;
    if (u32(off) === 3 /* PT_INTERP */) return false;
  }
  return true;
}

let probePromise: Promise<string> | undefined;

/** Compiles test/fixtures/probe.c once (cached by content hash); returns the static binary's path. */
export function buildProbe(): Promise<string> {
  probePromise ??= (async () => {
    const src = probeSource();
    const code = await fs.readFile(src);
    const out = path.join(CACHE_DIR, `probe-${sha256(code, GCC_ARGS.join(' ')).slice(0, 16)}`);
    if (existsSync(out)) return out;
    await fs.mkdir(CACHE_DIR, { recursive: true });
    const tmp = tmpName(out);
    try {
      await run('gcc', [...GCC_ARGS, '-o', tmp, src]);
    } catch (e) {
      const err = e as Error & { stderr?: string };
      throw new Error(
        `compiling ${src} failed (is build-essential / libc6-dev installed?): ${err.stderr || err.message}`,
        { cause: e },
      );
    }
    await fs.rename(tmp, out); // atomic: concurrent builders write the same bytes
    return out;
  })();
  probePromise.catch(() => {
    probePromise = undefined; // let a later call retry
  });
  return probePromise;
}

/** Writes the rootfs tree into dir (which must be empty). */
async function populate(dir: string, busybox: string, probe: string): Promise<void> {
  const mkdir = async (rel: string, mode = 0o755) => {
    await fs.mkdir(path.join(dir, rel), { recursive: true });
    await fs.chmod(path.join(dir, rel), mode); // explicit: mkdir modes are filtered by umask
  };
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'run', 'var', 'home/berth']) {
    await mkdir(d);
  }
  await mkdir('root', 0o700);
  await mkdir('tmp', 0o1777);
  await mkdir('var/tmp', 0o1777);

  await fs.copyFile(busybox, path.join(dir, 'bin/busybox'));
  await fs.chmod(path.join(dir, 'bin/busybox'), 0o755);
  await fs.copyFile(probe, path.join(dir, 'bin/probe'));
  await fs.chmod(path.join(dir, 'bin/probe'), 0o755);

  // One symlink per applet, relative so it resolves inside the container: usr/bin/env -> ../../bin/busybox
  const { stdout } = await run(busybox, ['--list-full']);
  const applets = new Set(stdout.split('\n').map((l) => l.trim()).filter(Boolean));
  applets.add('bin/sh');
  for (const rel of applets) {
    if (rel === 'bin/busybox' || rel.startsWith('/') || rel.includes('..')) continue;
    const link = path.join(dir, rel);
    await fs.mkdir(path.dirname(link), { recursive: true });
    const target = path.relative(path.dirname(rel), 'bin/busybox') || 'busybox';
    await fs.symlink(target, link).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  }

  await fs.writeFile(path.join(dir, 'etc/passwd'), PASSWD, { mode: 0o644 });
  await fs.writeFile(path.join(dir, 'etc/group'), GROUP, { mode: 0o644 });
  await fs.writeFile(path.join(dir, 'etc/hostname'), HOSTNAME, { mode: 0o644 });
  if (process.getuid?.() === 0) await fs.chown(path.join(dir, 'home/berth'), 1000, 1000);
}

let rootfsPromise: Promise<string> | undefined;

/**
 * Returns a cached busybox rootfs directory (read-only by convention: use copyRootfs to write).
 * Built into a temp dir and renamed into place, so concurrent test files never see half a tree.
 */
export function busyboxRootfs(): Promise<string> {
  rootfsPromise ??= (async () => {
    if (!existsSync(BUSYBOX)) {
      throw new Error(`${BUSYBOX} is missing: apt-get install busybox-static`);
    }
    if (!(await isStaticElf(BUSYBOX))) {
      throw new Error(`${BUSYBOX} is dynamically linked: apt-get install busybox-static (not busybox)`);
    }
    const probe = await buildProbe();
    const key = sha256(
      LAYOUT_VERSION,
      await fs.readFile(BUSYBOX),
      await fs.readFile(probe),
      PASSWD,
      GROUP,
      HOSTNAME,
      String(process.getuid?.()),
    );
    const final = path.join(CACHE_DIR, `rootfs-${key.slice(0, 16)}`);
    if (existsSync(final)) return final;
    await fs.mkdir(CACHE_DIR, { recursive: true });
    const tmp = tmpName(final);
    await fs.mkdir(tmp);
    try {
      await populate(tmp, BUSYBOX, probe);
      await fs.chmod(tmp, 0o755);
      await fs.rename(tmp, final);
    } catch (e) {
      await fs.rm(tmp, { recursive: true, force: true });
      // Another process renamed its identical tree into place first: use that one.
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(final)) return final;
      throw new Error(`building busybox rootfs at ${final}: ${(e as Error).message}`, { cause: e });
    }
    return final;
  })();
  rootfsPromise.catch(() => {
    rootfsPromise = undefined;
  });
  return rootfsPromise;
}

/** Makes a private, writable copy of the busybox rootfs at dest (created if missing). */
export async function copyRootfs(dest: string): Promise<void> {
  const src = await busyboxRootfs();
  await fs.mkdir(dest, { recursive: true });
  await run('cp', ['-a', '--reflink=auto', `${src}/.`, `${dest}/`]);
}

export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';

/**
 * A Debian bookworm minbase image as a tar (debootstrap from the Debian archive, once; cached). Only the
 * one test that is allowed to reach the archive uses it; it checks the archive answers first.
 */
export async function debianRootfsTar(): Promise<string> {
  const final = path.join(CACHE_DIR, 'debian-bookworm-minbase.tar');
  if (existsSync(final)) return final;
  await fs.mkdir(CACHE_DIR, { recursive: true });
  const dir = tmpName(final), tar = tmpName(final);
  try {
    await run('debootstrap', ['--variant=minbase', 'bookworm', dir, DEBIAN_MIRROR], { maxBuffer: 64 << 20 });
    await run('tar', ['-C', dir, '--numeric-owner', '--xattrs', '-cf', tar, '.']);
    await fs.rename(tar, final);
    return final;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rm(tar, { force: true });
  }
}

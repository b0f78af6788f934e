// images/manifest: Docker schema 2 and OCI image manifests, indexes and configs; platform selection. Pure.
import type { Descriptor, Platform } from '../content/store.js';
import { BerthError } from '../errors.js';

export const MT = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerForeign: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export interface Manifest { schemaVersion: 2; mediaType?: string; config: Descriptor; layers: Descriptor[]; annotations?: Record<string, string> }
export interface Index { schemaVersion: 2; mediaType?: string; manifests: Descriptor[]; annotations?: Record<string, string> }

export interface HistoryEntry { created?: string; created_by?: string; author?: string; comment?: string; empty_layer?: boolean }
export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  comment?: string;
  docker_version?: string;
  container?: string;
  config?: Record<string, unknown>;
  container_config?: Record<string, unknown>;
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
  [k: string]: unknown;
}

export function isIndexType(mt: string): boolean {
  return mt === MT.ociIndex || mt === MT.dockerList;
}

export function isManifestType(mt: string): boolean {
  return mt === MT.ociManifest || mt === MT.dockerManifest;
}

function parseJson(bytes: Buffer, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new BerthError('InvalidArgument', `${what}: invalid JSON: ${(e as Error).message}`, { cause: e });
  }
}

function checkDescriptor(d: unknown, what: string): Descriptor {
  const x = d as Descriptor;
  if (!x || typeof x.mediaType !== 'string' || typeof x.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(x.digest) || !Number.isSafeInteger(x.size) || x.size < 0) {
    throw new BerthError('InvalidArgument', `${what}: invalid descriptor ${JSON.stringify(d)}`);
  }
  return x;
}

/** The media type of a manifest document, from the registry's answer or its own mediaType field. */
export function detectType(bytes: Buffer, hint?: string): string {
  const j = parseJson(bytes, 'manifest');
  if (typeof j.mediaType === 'string') return j.mediaType;
  if (j.schemaVersion === 1) return MT.dockerSchema1;
  if (Array.isArray(j.manifests)) return MT.ociIndex;
  if (j.config) return MT.ociManifest;
  return hint ?? '';
}

export function parseIndex(bytes: Buffer): Index {
  const j = parseJson(bytes, 'index');
  if (j.schemaVersion !== 2 || !Array.isArray(j.manifests)) throw new BerthError('InvalidArgument', 'index: expected schemaVersion 2 with manifests');
  (j.manifests as unknown[]).forEach((d, i) => checkDescriptor(d, `index manifests[${i}]`));
  return j as unknown as Index;
}

export function parseManifest(bytes: Buffer): Manifest {
  const j = parseJson(bytes, 'manifest');
  if (j.schemaVersion === 1) throw new BerthError('NotImplemented', 'Docker Image manifest version 2, schema 1 is no longer supported');
  if (j.schemaVersion !== 2 || !Array.isArray(j.layers)) throw new BerthError('InvalidArgument', 'manifest: expected schemaVersion 2 with config and layers');
  checkDescriptor(j.config, 'manifest config');
  (j.layers as unknown[]).forEach((d, i) => checkDescriptor(d, `manifest layers[${i}]`));
  return j as unknown as Manifest;
}

export function parseConfig(bytes: Buffer): ImageConfig {
  const j = parseJson(bytes, 'image config');
  const rootfs = j.rootfs as ImageConfig['rootfs'] | undefined;
  if (!rootfs || !Array.isArray(rootfs.diff_ids)) throw new BerthError('InvalidArgument', 'image config: missing rootfs.diff_ids');
  for (const d of rootfs.diff_ids) if (!/^sha256:[a-f0-9]{64}$/.test(d)) throw new BerthError('InvalidArgument', `image config: invalid diff ID ${d}`);
  return j as unknown as ImageConfig;
}

/** Layers that are not distributable by a registry (Windows foreign layers) carry no tar we can unpack. */
export function isForeign(d: Descriptor): boolean {
  return d.mediaType === MT.dockerLayerForeign || d.mediaType.includes('nondistributable');
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };

export function hostPlatform(): Platform {
  const architecture = ARCH[process.arch] ?? process.arch;
  const p: Platform = { os: 'linux', architecture };
  if (architecture === 'arm64') p.variant = 'v8';
  return p;
}

// containerd platforms: the names a lone specifier may be (database.go isKnownOS/isKnownArch)
const KNOWN_OS = new Set(['aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'windows', 'zos']);
const KNOWN_ARCH = new Set(['386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'ppc64', 'ppc64le', 'loong64', 'mips', 'mipsle', 'mips64', 'mips64le',
  'mips64p32', 'mips64p32le', 'ppc', 'riscv', 'riscv64', 's390', 's390x', 'sparc', 'sparc64', 'wasm']);
const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', x86: '386', i386: '386', aarch64: 'arm64', armhf: 'arm', armel: 'arm' };

/** containerd platforms.Parse: "os", "arch", "os/arch" or "os/arch/variant"; InvalidArgument (400) before any network. */
export function parsePlatform(s: string): Platform {
  const parts = s.toLowerCase().split('/');
  for (const part of parts) {
    if (!/^[a-z0-9_-]+$/.test(part)) throw new BerthError('InvalidArgument', `${JSON.stringify(part)} is an invalid component of ${JSON.stringify(s)}: platform specifier component must match "^[A-Za-z0-9_-]+$": invalid argument`);
  }
  if (parts.length > 3) throw new BerthError('InvalidArgument', `${JSON.stringify(s)}: cannot parse platform specifier: invalid argument`);
  if (parts.length === 1) {
    // a lone word is an OS (with this host's architecture) or an architecture (on linux), or nothing
    if (KNOWN_OS.has(parts[0]!)) return { ...hostPlatform(), os: parts[0]! };
    if (!KNOWN_ARCH.has(ARCH_ALIASES[parts[0]!] ?? parts[0]!)) throw new BerthError('InvalidArgument', `${JSON.stringify(s)}: unknown operating system or architecture: invalid argument`);
  }
  let [os, architecture, variant] = parts.length === 1 ? ['linux', parts[0]!] : parts;
  architecture = ARCH_ALIASES[architecture!] ?? architecture;
  if (parts[parts.length === 1 ? 0 : 1] === 'armel' && !variant) variant = 'v6';
  if (architecture === 'arm64' && !variant) variant = 'v8';
  if (architecture === 'arm' && !variant) variant = 'v7';
  return { os: os!, architecture: architecture!, ...(variant ? { variant } : {}) };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function normVariant(p: Platform): string {
  if (p.architecture === 'arm64') return p.variant ?? 'v8';
  if (p.architecture === 'arm') return p.variant ?? 'v7';
  return p.variant ?? '';
}

/** Whether an image made for `have` runs as `want` asks (os, architecture, variant normalized). */
export function platformMatches(have: Platform, want: Platform): boolean {
  return have.os === want.os && have.architecture === want.architecture && (!want.variant || normVariant(have) === normVariant(want));
}

/** Picks the index entry for `want` (containerd platforms.Only, without fallbacks to older arm variants). */
export function selectPlatform(index: Index, want: Platform): Descriptor {
  const candidates = index.manifests.filter((d) => d.platform && d.platform.os === want.os && d.platform.architecture === want.architecture && isManifestType(d.mediaType));
  const exact = candidates.find((d) => normVariant(d.platform!) === normVariant(want));
  const pick = exact ?? (want.variant ? undefined : candidates[0]);
  if (!pick) {
    const have = index.manifests.filter((d) => d.platform).map((d) => formatPlatform(d.platform!)).join(', ');
    throw new BerthError('NotFound', `no matching manifest for ${formatPlatform(want)} in the manifest list entries (available: ${have || 'none'})`);
  }
  return pick;
}

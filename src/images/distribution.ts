// images/distribution: GET /distribution/{name}/json, asked of the registry: the descriptor of the
// name's top manifest (an index or an image manifest) and the platforms it offers. For a single image
// manifest the platform is read from its config, as dockerd does.
import { parseReference } from '../registry/reference.js';
import { MAX_CONFIG, readResponseCapped } from '../util/read-capped.js';
import { isIndexType, parseConfig, parseIndex, parseManifest } from './manifest.js';
import type { ImageService } from './service.js';

export interface DistributionPlatform { architecture: string; os: string; 'os.version'?: string; 'os.features'?: string[]; variant?: string }
export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: DistributionPlatform[];
}

export async function distributionInspect(svc: ImageService, name: string): Promise<DistributionInspect> {
  const ref = parseReference(name);
  const client = svc.client(ref.domain);
  const top = await client.getManifest(ref);
  const Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.size };
  if (isIndexType(top.mediaType)) {
    const Platforms = parseIndex(top.bytes).manifests.filter((m) => m.platform).map((m) => m.platform as DistributionPlatform);
    return { Descriptor, Platforms };
  }
  const m = parseManifest(top.bytes);
  const res = await client.getBlob(ref.path, m.config.digest);
  const cfg = parseConfig(await readResponseCapped(res, MAX_CONFIG, `config ${m.config.digest}`));
  const p: DistributionPlatform = { architecture: cfg.architecture, os: cfg.os };
  if (cfg.variant) p.variant = cfg.variant;
  const raw = cfg as unknown as Record<string, unknown>;
  if (typeof raw['os.version'] === 'string') p['os.version'] = raw['os.version'];
  if (Array.isArray(raw['os.features']) && raw['os.features'].length) p['os.features'] = raw['os.features'] as string[];
  return { Descriptor, Platforms: [p] };
}

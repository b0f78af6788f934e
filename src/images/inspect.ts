// images/inspect: list, inspect and history in the shapes the Docker Engine API returns
// (api/types ImageSummary, ImageInspect, HistoryResponseItem), so the API layer can pass them through.
import { familiarString } from '../registry/reference.js';
import type { ImageService, ResolvedImage } from './service.js';

export interface ListOptions { all?: boolean; dangling?: boolean; reference?: string }

export interface ImageSummary {
  Id: string; ParentId: string; RepoTags: string[]; RepoDigests: string[]; Created: number;
  Size: number; SharedSize: number; VirtualSize: number; Labels: Record<string, string> | null; Containers: number;
}

export interface ImageInspect {
  Id: string; RepoTags: string[]; RepoDigests: string[]; Parent: string; Comment: string; Created: string;
  Container: string; ContainerConfig: Record<string, unknown>; DockerVersion: string; Author: string;
  Config: Record<string, unknown> | null; Architecture: string; Variant?: string; Os: string; Size: number; VirtualSize: number;
  GraphDriver: { Name: string; Data: Record<string, string> }; RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
}

export interface HistoryItem { Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }

// What docker shows as ContainerConfig for images that have none (old clients read it).
const EMPTY_CONTAINER_CONFIG = {
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
  Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null,
  WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null,
};

/** docker's image Size: the sum of its layers' unpacked sizes. */
function imageSize(svc: ImageService, img: ResolvedImage, sizes: LayerSizes | undefined): number {
  return (sizes ? sizes.of(img) : layerSizes(svc, img)).reduce((n, x) => n + x, 0);
}

/** img's layers' unpacked sizes, bottom up (one per chain ID). */
export function layerSizes(svc: ImageService, img: ResolvedImage): number[] {
  return img.chainIds.map((_, i) => layerSize(svc, img, i));
}

/**
 * Layer sizes for one pass over many images (system df): each layer's size is read once however many images
 * share it, and what each image was found to hold stays here (byImage: chain ID -> size, bottom up) for the
 * shared sizes, LayersSize and the containers' SizeRootFs that follow.
 */
export class LayerSizes {
  readonly byImage = new Map<string, Map<string, number>>();
  private readonly byChain = new Map<string, number>();
  constructor(private readonly svc: ImageService) {}

  of(img: ResolvedImage): number[] {
    const sizes = img.chainIds.map((ch, i) => {
      let n = this.byChain.get(ch);
      if (n === undefined) { n = layerSize(this.svc, img, i); this.byChain.set(ch, n); }
      return n;
    });
    this.byImage.set(img.record.id, new Map(img.chainIds.map((ch, i) => [ch, sizes[i]!])));
    return sizes;
  }
}

/**
 * The i-th layer's size: its tree's; for a committed layer not unpacked yet (images/lazy-layers) the size its
 * commit recorded, the same number the tree will have (its blob's for an image committed before sizes were recorded).
 */
function layerSize(svc: ImageService, img: ResolvedImage, i: number): number {
  try { return svc.snapshots.stat(img.chainIds[i]!).size; } catch { /* not unpacked (yet) */ }
  const recorded = img.record.layerSizes?.[img.diffIds[i] ?? ''];
  if (recorded !== undefined) return recorded;
  const blob = img.manifest.layers[i]?.digest;
  return (blob && svc.content.size(blob)) || 0;
}

function names(svc: ImageService, id: string): { RepoTags: string[]; RepoDigests: string[] } {
  const r = svc.refsOf(id);
  return { RepoTags: r.tags.map(familiarString), RepoDigests: r.digests.map(familiarString) };
}

export function listImages(svc: ImageService, o: ListOptions = {}, sizes?: LayerSizes): ImageSummary[] {
  const out: ImageSummary[] = [];
  const recs = svc.store.list();
  const parents = new Set(recs.map((r) => r.parent).filter(Boolean));
  for (const rec of recs) {
    const img = svc.resolve(rec.id);
    const n = names(svc, rec.id);
    // moby's image list: an untagged image that is another's parent is a build's intermediate, shown only with all
    if (!o.all && n.RepoTags.length === 0 && n.RepoDigests.length === 0 && parents.has(rec.id)) continue;
    if (o.dangling !== undefined && (n.RepoTags.length === 0) !== o.dangling) continue;
    if (o.reference) {
      const want = o.reference;
      if (!n.RepoTags.some((t) => t === want || t.split(':')[0] === want)) continue;
    }
    const size = imageSize(svc, img, sizes);
    out.push({
      Id: rec.id, ParentId: rec.parent ?? '', ...n, Created: Math.floor(Date.parse(img.config.created ?? '') / 1000) || 0,
      Size: size, SharedSize: -1, VirtualSize: size, Labels: (img.config.config?.Labels as Record<string, string> | undefined) ?? null, Containers: -1,
    });
  }
  return out.sort((a, b) => b.Created - a.Created);
}

export function inspectImage(svc: ImageService, name: string): ImageInspect {
  const img = svc.resolve(name);
  const c = img.config;
  const size = imageSize(svc, img, undefined);
  // every layer's directory, a committed layer not unpacked yet (images/lazy-layers) too: where its first use puts it
  const dirs = img.chainIds.map((ch) => svc.snapshots.fsPath(ch)).reverse();
  return {
    Id: img.record.id, ...names(svc, img.record.id), Parent: img.record.parent ?? '', Comment: c.comment ?? '',
    Created: c.created ?? '1970-01-01T00:00:00Z', Container: c.container ?? '',
    ContainerConfig: c.container_config ?? EMPTY_CONTAINER_CONFIG, DockerVersion: c.docker_version ?? '', Author: c.author ?? '',
    Config: c.config ?? null, Architecture: c.architecture, ...(c.variant ? { Variant: c.variant } : {}), Os: c.os,
    Size: size, VirtualSize: size,
    GraphDriver: { Name: 'overlay2', Data: { LowerDir: dirs.join(':') } },
    RootFS: { Type: 'layers', Layers: img.diffIds },
    Metadata: { LastTagTime: img.record.lastTagTime ?? '0001-01-01T00:00:00Z' },
  };
}

export function imageHistory(svc: ImageService, name: string): HistoryItem[] {
  const img = svc.resolve(name);
  const hist = img.config.history?.length ? img.config.history : img.diffIds.map(() => ({} as { empty_layer?: boolean }));
  const out: HistoryItem[] = [];
  const sizes = layerSizes(svc, img);
  let layer = 0;
  for (const h of hist as Array<{ created?: string; created_by?: string; comment?: string; empty_layer?: boolean }>) {
    const size = h.empty_layer ? 0 : sizes[layer++] ?? 0;
    out.push({ Id: '<missing>', Created: Math.floor(Date.parse(h.created ?? '') / 1000) || 0, CreatedBy: h.created_by ?? '', Tags: null, Size: size, Comment: h.comment ?? '' });
  }
  out.reverse();
  if (out[0]) { out[0].Id = img.record.id; const t = names(svc, img.record.id).RepoTags; out[0].Tags = t.length ? t : null; }
  return out;
}

// images/remove: docker's rmi semantics (daemon/images/image_delete.go): removing a name untags;
// the image goes when its last tag goes; an ID with several repositories or an image in use needs force.
import { shortId } from '../content/digest.js';
import { BerthError } from '../errors.js';
import { familiarString, formatReference, parseReference, repoName } from '../registry/reference.js';
import type { ImageService } from './service.js';

export interface RemoveOptions { force?: boolean; noPrune?: boolean }
export interface DeleteItem { Untagged?: string; Deleted?: string }
export interface PruneOptions { /** also images with tags, when no container uses them */ all?: boolean }
export interface PruneReport { ImagesDeleted: DeleteItem[]; SpaceReclaimed: number }

export async function removeImage(svc: ImageService, name: string, o: RemoveOptions = {}): Promise<DeleteItem[]> {
  const id = svc.resolveId(name);
  const out: DeleteItem[] = [];
  const user = svc.opts.inUse?.(id);
  let byRef: string | undefined;
  try {
    const key = formatReference(parseReference(name));
    if (svc.store.refs()[key] === id) byRef = key;
  } catch { /* an ID */ }

  const untag = async (refs: string[]) => {
    await svc.store.setRefs(Object.fromEntries(refs.map((r) => [r, undefined])));
    for (const r of refs) out.push({ Untagged: familiarString(r) });
  };

  if (byRef) {
    if (user && !o.force && singleReference(svc.refsOf(id))) throw new BerthError('Conflict', `conflict: unable to remove repository reference "${name}" (must force) - container ${shortId(user)} is using its referenced image ${shortId(id)}`);
    const drop = [byRef];
    // docker also drops digest references of a repository once none of its tags is left
    const repo = repoName(parseReference(byRef, false));
    const left = svc.refsOf(id);
    if (!left.tags.some((t) => t !== byRef && repoName(parseReference(t, false)) === repo)) drop.push(...left.digests.filter((d) => repoName(parseReference(d, false)) === repo && d !== byRef));
    await untag(drop);
    const rest = svc.refsOf(id);
    if (rest.tags.length || rest.digests.length || user) return out;
  } else {
    const refs = svc.refsOf(id);
    if (refs.tags.length > 1 && !o.force) throw new BerthError('Conflict', `conflict: unable to delete ${shortId(id)} (must be forced) - image is referenced in multiple repositories`);
    if (user && !o.force) throw new BerthError('Conflict', `conflict: unable to delete ${shortId(id)} (must be forced) - image is being used by container ${shortId(user)}`);
    await untag([...refs.tags, ...refs.digests]);
    if (user) return out; // forced while in use: the container keeps its image, now untagged
  }
  await svc.store.delete(id);
  out.push({ Deleted: id });
  if (!o.noPrune) for (const l of (await svc.gc()).layers) out.push({ Deleted: l });
  return out;
}

/**
 * docker's isSingleReference: at most one tag, and every reference of one repository. Only then would
 * untagging leave an image a container uses without a name, which needs force.
 */
function singleReference(refs: { tags: string[]; digests: string[] }): boolean {
  if (refs.tags.length > 1) return false;
  const all = [...refs.tags, ...refs.digests];
  if (all.length <= 1) return all.length === 1;
  const repos = new Set(refs.digests.map((d) => repoName(parseReference(d, false))));
  return repos.size === 1 && repos.has(repoName(parseReference(all[0]!, false)));
}

export async function pruneImages(svc: ImageService, o: PruneOptions = {}): Promise<PruneReport> {
  const deleted: DeleteItem[] = [];
  for (const rec of svc.store.list()) {
    if (svc.opts.inUse?.(rec.id)) continue;
    const refs = svc.refsOf(rec.id);
    if (refs.tags.length && !o.all) continue;
    await svc.store.setRefs(Object.fromEntries([...refs.tags, ...refs.digests].map((r) => [r, undefined])));
    for (const r of [...refs.tags, ...refs.digests]) deleted.push({ Untagged: familiarString(r) });
    await svc.store.delete(rec.id);
    deleted.push({ Deleted: rec.id });
  }
  const g = await svc.gc();
  for (const l of g.layers) deleted.push({ Deleted: l });
  return { ImagesDeleted: deleted, SpaceReclaimed: g.bytes };
}

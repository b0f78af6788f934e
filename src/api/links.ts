// api/links: docker's legacy links (HostConfig.Links "name[:alias]"), recorded by target id so a rename of
// the target keeps them (moby's links graph), and shown as docker shows them: "/target:/self/alias" in
// inspect and "/self/alias" among the target's Names in ps. The /etc/hosts entry is the service's.
import { BerthError } from '../errors.js';
import { parseLink } from '../network/links.js';
import type { ContainerLink } from '../containers/config.js';
import type { Container } from '../containers/types.js';

/**
 * moby registerLinks: on the default bridge the target must exist (400, not 404, at create). On a user
 * network HostConfig.Links are not legacy links (moby skips them): the CLI sends the same links in that
 * network's EndpointsConfig, where they become aliases the embedded DNS server answers.
 */
export function resolveLinks(links: string[] | undefined, networkMode: string, find: (ref: string) => Container): ContainerLink[] | undefined {
  if (!links?.length) return undefined;
  if (networkMode === 'host') throw new BerthError('InvalidArgument', 'conflicting options: host type networking can\'t be used with links. This would result in undefined behavior');
  if (networkMode.startsWith('container:')) throw new BerthError('InvalidArgument', 'conflicting options: container type network can\'t be used with links. This would result in undefined behavior');
  const parsed = links.map(parseLink);
  if (!['default', 'bridge', 'none', ''].includes(networkMode)) return undefined;
  return parsed.map(({ name, alias }) => {
    let target: Container;
    try { target = find(name); } catch (e) { throw new BerthError('InvalidArgument', `could not get container for ${name}`, { cause: e }); }
    return { id: target.id, alias };
  });
}

/** Inspect's HostConfig.Links of `c`, with the targets' names of now (a removed target drops out). */
export function linkStrings(c: Container, byId: (id: string) => Container | undefined): string[] | null {
  const out = (c.config.host.links ?? []).flatMap((l) => { const t = byId(l.id); return t ? [`/${t.name}:/${c.name}/${l.alias}`] : []; });
  return out.length ? out : null;
}

/** ps: every container's extra Names, "/<linker>/<alias>", for each link that names it. */
export function linkedNames(all: Container[]): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const y of all) for (const l of y.config.host.links ?? []) names.set(l.id, [...(names.get(l.id) ?? []), `/${y.name}/${l.alias}`]);
  return names;
}

// registry/reference: the distribution reference grammar (distribution/reference regexp.go) with
// Docker's normalisation: `busybox` -> docker.io/library/busybox:latest. Pure.
import { BerthError } from '../errors.js';

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const PATH_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const DOMAIN_RE = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

export const DEFAULT_DOMAIN = 'docker.io';
export const LEGACY_DOMAIN = 'index.docker.io';

export interface Reference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

function invalid(s: string, why?: string): BerthError {
  return new BerthError('InvalidArgument', why ? `invalid reference format: ${why}` : `invalid reference format: ${JSON.stringify(s)}`);
}

/** Parses and normalises; `defaultTag` adds :latest when neither tag nor digest was given. */
export function parseReference(s: string, defaultTag = true): Reference {
  if (s === '' || s.length > 4096) throw invalid(s);
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw invalid(s);
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest)) throw invalid(s);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw invalid(s);
  }
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    // docker's splitDockerDomain: a first component with '.', ':' or uppercase, or "localhost", is a host
    if (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase()) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (!DOMAIN_RE.test(domain)) throw invalid(s);
  if (path !== path.toLowerCase()) throw invalid(s, `repository name (${path}) must be lowercase`);
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  if (!PATH_RE.test(path)) throw invalid(s);
  if (`${domain}/${path}`.length > 255) throw invalid(s, 'repository name must not be more than 255 characters');
  if (defaultTag && !tag && !digest) tag = 'latest';
  return { domain, path, tag, digest };
}

export function repoName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

export function formatReference(r: Reference): string {
  return `${repoName(r)}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** Docker's FamiliarName: strips docker.io/ and library/. */
export function familiarName(name: string): string {
  if (name.startsWith(`${DEFAULT_DOMAIN}/`)) {
    const p = name.slice(DEFAULT_DOMAIN.length + 1);
    return p.startsWith('library/') && p.indexOf('/', 8) < 0 ? p.slice(8) : p;
  }
  return name;
}

/** familiar form of a full reference string, e.g. docker.io/library/busybox:latest -> busybox:latest */
export function familiarString(ref: string): string {
  const r = parseReference(ref, false);
  return `${familiarName(repoName(r))}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

// images/search: GET /images/search, as dockerd answers it: the term's registry (Docker Hub's index for
// a bare name) is asked on its v1 search endpoint; when it cannot be reached or has no such endpoint
// (a v2-only registry), the request fails with dockerd's 500 and the underlying error.
import { BerthError } from '../errors.js';
import { MAX_SMALL, readResponseCapped } from '../util/read-capped.js';
import { DEFAULT_DOMAIN } from '../registry/reference.js';

export interface SearchResult { name: string; description: string; star_count: number; is_official: boolean; is_automated: boolean }

function isLoopback(host: string): boolean { return /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(host); }

/** Splits a search term into its index host and the query, as docker does (a first part with '.' or ':' is a host). */
export function searchTarget(term: string): { host: string; query: string } {
  const slash = term.indexOf('/');
  const first = slash < 0 ? '' : term.slice(0, slash);
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost')) return { host: first, query: term.slice(slash + 1) };
  return { host: DEFAULT_DOMAIN, query: term };
}

export async function searchImages(term: string, limit = 25): Promise<SearchResult[]> {
  if (!term) throw new BerthError('InvalidArgument', 'term is required');
  if (limit < 1 || limit > 100) throw new BerthError('InvalidArgument', `limit ${limit} is outside the range of [1, 100]`);
  const { host, query } = searchTarget(term);
  const index = host === DEFAULT_DOMAIN ? 'index.docker.io' : host;
  const url = `${isLoopback(index) ? 'http' : 'https'}://${index}/v1/search?q=${encodeURIComponent(query)}&n=${limit}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
    throw new BerthError('Internal', `Get "${url}": ${cause}`);
  }
  const body = await readResponseCapped(res, MAX_SMALL, 'search result');
  if (res.status !== 200) throw new BerthError('Internal', `Unexpected status code ${res.status}`);
  let j: { results?: SearchResult[] };
  try { j = JSON.parse(body.toString('utf8')) as typeof j; } catch { throw new BerthError('Internal', `search ${index}: answer is not JSON`); }
  return (j.results ?? []).slice(0, limit).map((r) => ({ name: r.name, description: r.description ?? '', star_count: r.star_count ?? 0, is_official: !!r.is_official, is_automated: !!r.is_automated }));
}

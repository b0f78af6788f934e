// api/version: the versions berthd advertises. Docker CLI 28.2.2 speaks 1.50 and negotiates down to whatever
// the daemon advertises; CLI 29 refuses daemons below 1.44; docker-py takes /version's ApiVersion as is
// (shared/reference/docker-engine-api.md §1). 1.50 satisfies all three with no downgrade: advertising 1.44
// would only make CLI 28 drop to /v1.44 paths for no gain.
export const API_VERSION = '1.50';
// as dockerd 20.10: clients down to 1.12 are served, with the answers of their version (api/legacy.ts)
export const MIN_API_VERSION = '1.12';
/** The engine version clients see: tools compare it with Docker releases, so it names the Docker release whose API we serve. */
export const ENGINE_VERSION = '28.2.2';
export const BERTH_VERSION = '0.1.0';

/** Compares dotted versions numerically: -1, 0 or 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

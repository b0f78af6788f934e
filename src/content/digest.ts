// content/digest: OCI digest strings (algorithm:hex); only sha256 is accepted, as distribution requires.
import { createHash } from 'node:crypto';
import { BerthError } from '../errors.js';

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

export function checkDigest(s: string): string {
  if (!isDigest(s)) throw new BerthError('InvalidArgument', `invalid digest: ${JSON.stringify(s)}`);
  return s;
}

export function hexOf(digest: string): string {
  return checkDigest(digest).slice(7);
}

export function sha256(data: string | Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** First 12 hex characters, the id docker prints. */
export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

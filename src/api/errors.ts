// api/errors: the one place that maps BerthError kinds to HTTP statuses and writes Docker's error body:
// {"message": …} with `Content-Type: application/json` exactly (the Go client decodes only that type).
import type * as http from 'node:http';
import { BerthError, isBerthError, type ErrorKind } from '../errors.js';

const STATUS: Record<ErrorKind, number> = {
  NotFound: 404,
  Conflict: 409,
  InvalidArgument: 400,
  // moby has no precondition class; its "container is not running"/"is paused" errors are conflicts (409)
  FailedPrecondition: 409,
  PermissionDenied: 403,
  Unavailable: 503,
  NotImplemented: 501,
  Internal: 500,
};

/**
 * HTTP status for an error. Two PermissionDenied cases follow moby's registry error translation:
 * "pull access denied … repository does not exist" is a 404 (docker-py maps it to ImageNotFound),
 * and other registry refusals ("unauthorized") are 401 (errdefs.Unauthorized; the CLI then offers login).
 */
export function statusOf(e: unknown): number {
  if (!isBerthError(e)) return 500;
  if (e.kind === 'PermissionDenied' && e.message.startsWith('pull access denied')) return 404;
  if (e.kind === 'PermissionDenied' && /unauthorized|authentication required/i.test(e.message)) return 401;
  return STATUS[e.kind];
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Reverse map for clients: status → kind. */
export function kindOfStatus(status: number): ErrorKind {
  switch (status) {
    case 400: return 'InvalidArgument';
    case 401: case 403: return 'PermissionDenied';
    case 404: return 'NotFound';
    case 409: return 'Conflict';
    case 501: return 'NotImplemented';
    case 503: return 'Unavailable';
    default: return 'Internal';
  }
}

export function errorBody(message: string): string {
  return JSON.stringify({ message });
}

/** Writes an error response, or ends the response when headers already went out. */
export function sendError(res: http.ServerResponse, e: unknown): void {
  if (res.headersSent) { res.destroy(); return; }
  const status = statusOf(e);
  const body = errorBody(messageOf(e));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** The in-stream error of a JSON-message stream (jsonmessage.JSONError); clients look for errorDetail. */
export function streamError(e: unknown): { errorDetail: { message: string }; error: string } {
  const message = messageOf(e);
  return { errorDetail: { message }, error: message };
}

export { BerthError };

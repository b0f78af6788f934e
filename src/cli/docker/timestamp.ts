// cli/docker/timestamp: `--since`/`--until` of logs and events as the docker CLI sends them: GetTimestamp
// (util/timestamp, shared with berthd) turns a Go duration or an RFC 3339 time into unix seconds.nanoseconds.
import { getTimestamp } from '../../util/timestamp.js';

export { getTimestamp };

/** A flag's value, converted when given (an empty one is no value, as docker's). */
export function optTimestamp(v: unknown): string | undefined {
  return v === undefined || v === '' ? undefined : getTimestamp(String(v));
}

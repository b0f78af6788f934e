// containers/log-config: HostConfig.LogConfig checked and turned into what the monitor does. Pure.
// Drivers: json-file (rotated by default: 10m x 3, since an unbounded log is Docker's most repeated
// complaint), none (no log kept; `logs` answers docker's "does not support reading"), and local —
// taken as json-file with local's own defaults (20m x 5) and a warning, because Berth's monitor writes
// one format only and docker's local format is a protobuf stream no reader here understands. Anything
// else is refused at create with docker's wording (moby daemon/logger: ValidateLogOpts).
import { BerthError } from '../errors.js';
import type { LogConfig } from './config.js';

export const DEFAULT_MAX_SIZE = 10 * 1000 * 1000; // go-units FromHumanSize("10m") is decimal
export const DEFAULT_MAX_FILE = 3;
const LOCAL_MAX_SIZE = 20 * 1000 * 1000, LOCAL_MAX_FILE = 5;

/** What the monitor is told: no log at all, or json-file rotated at maxSize keeping maxFiles files. */
export type LogPlan = { driver: 'none' } | { driver: 'json-file'; maxSize: number; maxFiles: number };

const bad = (msg: string) => new BerthError('InvalidArgument', msg);
// the attributes every driver takes (moby logger.AttrEnv … AttrLogTag); json-file records none of them yet
const COMMON = new Set(['env', 'env-regex', 'labels', 'labels-regex', 'tag']);

/** go-units FromHumanSize: decimal units, "10m" = 10,000,000. */
export function fromHumanSize(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) throw bad(`invalid size: '${s}'`);
  const unit = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 }[(m[2] ?? '').toLowerCase() as 'k'] ?? 1;
  return Math.floor(Number(m[1]) * unit);
}

/** The rotation a json-file config asks for (moby jsonfilelog.New's checks and wording). */
function jsonFilePlan(cfg: Record<string, string>, defaults: { maxSize: number; maxFiles: number }): LogPlan {
  for (const k of Object.keys(cfg)) if (!COMMON.has(k) && !['max-size', 'max-file', 'compress'].includes(k)) throw bad(`unknown log opt '${k}' for json-file log driver`);
  let maxSize = defaults.maxSize, maxFiles = defaults.maxFiles;
  if (cfg['max-size'] !== undefined) {
    maxSize = fromHumanSize(cfg['max-size']);
    if (maxSize <= 0) throw bad('max-size must be a positive number');
    if (cfg['max-file'] === undefined) maxFiles = 1; // docker: max-size alone keeps one file
  }
  if (cfg['max-file'] !== undefined) {
    if (!/^[+-]?\d+$/.test(cfg['max-file'])) throw bad(`strconv.Atoi: parsing "${cfg['max-file']}": invalid syntax`);
    maxFiles = Number(cfg['max-file']);
    if (maxFiles < 1) throw bad('max-file cannot be less than 1');
  }
  if (cfg.compress !== undefined) {
    if (!/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(cfg.compress)) throw bad(`strconv.ParseBool: parsing "${cfg.compress}": invalid syntax`);
    if (/^(1|t|T|TRUE|true|True)$/.test(cfg.compress)) throw new BerthError('NotImplemented', 'log opt compress=true is not supported: berth keeps rotated json-file logs uncompressed');
  }
  return { driver: 'json-file', maxSize, maxFiles };
}

/** Create: the wire's LogConfig checked (400 on a bad one); undefined for the default (json-file, rotated). */
export function checkLogConfig(w: { Type?: string; Config?: Record<string, string> | null } | null | undefined, warnings?: string[]): LogConfig | undefined {
  const type = w?.Type || 'json-file';
  const config = w?.Config ?? {};
  if (type === 'json-file' && !Object.keys(config).length) return undefined;
  logPlan({ type, config }, warnings);
  return { type, config };
}

/** The monitor's part of a (checked) config; `warnings` gets local's note. */
export function logPlan(c: LogConfig | undefined, warnings?: string[]): LogPlan {
  const type = c?.type || 'json-file';
  const cfg = c?.config ?? {};
  switch (type) {
    case 'json-file': return jsonFilePlan(cfg, { maxSize: DEFAULT_MAX_SIZE, maxFiles: DEFAULT_MAX_FILE });
    case 'local':
      warnings?.push('the "local" logging driver is served as json-file by berth (same rotation options, default 20m x 5, not compressed)');
      return jsonFilePlan(cfg, { maxSize: LOCAL_MAX_SIZE, maxFiles: LOCAL_MAX_FILE });
    case 'none':
      for (const k of Object.keys(cfg)) throw bad(`unknown log opt '${k}' for none log driver`);
      return { driver: 'none' };
    default:
      throw bad(`logger: no log driver named '${type}' is registered`);
  }
}

/** inspect's HostConfig.LogConfig: what was asked for, json-file when nothing was. */
export function logConfigWire(c: LogConfig | undefined): { Type: string; Config: Record<string, string> } {
  return { Type: c?.type ?? 'json-file', Config: c?.config ?? {} };
}

/** moby logger.ErrReadLogsNotSupported: `docker logs` of a container whose driver keeps nothing. */
export function checkReadable(c: LogConfig | undefined): void {
  if (logPlan(c).driver === 'none') throw new BerthError('NotImplemented', 'configured logging driver does not support reading');
}

/** startMonitor's log options: rotation, or the log written to /dev/null (none keeps nothing). */
export function monitorLogOptions(c: LogConfig | undefined): { logMaxSize?: number; logMaxFiles?: number; paths?: { log: string } } {
  const p = logPlan(c);
  return p.driver === 'none' ? { paths: { log: '/dev/null' } } : { logMaxSize: p.maxSize, logMaxFiles: p.maxFiles };
}

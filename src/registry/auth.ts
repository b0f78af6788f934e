// registry/auth: credentials the way the docker CLI keeps them ($DOCKER_CONFIG/config.json: auths,
// credHelpers, credsStore) and the WWW-Authenticate challenge grammar (RFC 7235).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { errnoCode } from '../errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { DEFAULT_DOMAIN } from './reference.js';

export interface Credentials { username?: string; password?: string; identityToken?: string }
export interface Challenge { scheme: string; params: Record<string, string> }

const DOCKER_INDEX = 'https://index.docker.io/v1/';

export function dockerConfigPath(): string {
  const dir = process.env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker');
  return path.join(dir, 'config.json');
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [k: string]: unknown;
}

function readConfig(file: string): DockerConfig {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')) as DockerConfig; } catch (e) {
    if (errnoCode(e) === 'ENOENT') return {};
    throw e;
  }
}

/** The key docker uses in config.json for a registry host. */
export function configKey(host: string): string {
  return host === DEFAULT_DOMAIN ? DOCKER_INDEX : host;
}

function matches(key: string, host: string): boolean {
  if (key === configKey(host)) return true;
  const bare = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return bare === host || (host === DEFAULT_DOMAIN && (bare === 'index.docker.io' || bare === 'registry-1.docker.io'));
}

export function credentialsFor(host: string, file = dockerConfigPath()): Credentials | undefined {
  const cfg = readConfig(file);
  const helper = cfg.credHelpers?.[host] ?? cfg.credsStore;
  if (helper) {
    try {
      const out = execFileSync(`docker-credential-${helper}`, ['get'], { input: configKey(host), encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'], timeout: 10_000 });
      const c = JSON.parse(out) as { Username?: string; Secret?: string };
      if (c.Username === '<token>') return { identityToken: c.Secret };
      if (c.Secret) return { username: c.Username, password: c.Secret };
    } catch { /* helper missing or no entry: fall back to auths, as docker does */ }
  }
  for (const [key, a] of Object.entries(cfg.auths ?? {})) {
    if (!matches(key, host)) continue;
    if (a.identitytoken) return { identityToken: a.identitytoken };
    if (a.auth) {
      const dec = Buffer.from(a.auth, 'base64').toString('utf8');
      const i = dec.indexOf(':');
      if (i > 0) return { username: dec.slice(0, i), password: dec.slice(i + 1) };
    }
    if (a.username) return { username: a.username, password: a.password };
  }
  return undefined;
}

/** Stores credentials in config.json (mode 0600), keeping every other field. */
export function saveCredentials(host: string, c: { username: string; password: string }, file = dockerConfigPath()): void {
  const cfg = readConfig(file);
  cfg.auths = { ...(cfg.auths ?? {}), [configKey(host)]: { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') } };
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomicSync(file, JSON.stringify(cfg, null, '\t') + '\n', 0o600);
}

export function removeCredentials(host: string, file = dockerConfigPath()): boolean {
  const cfg = readConfig(file);
  const key = Object.keys(cfg.auths ?? {}).find((k) => matches(k, host));
  if (!key) return false;
  delete cfg.auths![key];
  writeFileAtomicSync(file, JSON.stringify(cfg, null, '\t') + '\n', 0o600);
  return true;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (several challenges may be comma-joined). */
export function parseChallenges(header: string | null): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  const re = /\s*([A-Za-z][\w-]*)(?:\s+|$)|\s*([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/y;
  let cur: Challenge | undefined;
  let m: RegExpExecArray | null;
  while (re.lastIndex < header.length && (m = re.exec(header))) {
    if (m[1] !== undefined && m[2] === undefined) {
      cur = { scheme: m[1].toLowerCase(), params: {} };
      out.push(cur);
    } else if (m[2] !== undefined && cur) {
      cur.params[m[2].toLowerCase()] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[4] ?? '';
    }
    if (m[0] === '') break;
  }
  return out;
}

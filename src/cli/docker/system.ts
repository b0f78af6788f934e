// cli/docker/system: `version`, `info`, `login`, `logout` against the daemon.
import { BerthError } from '../../errors.js';
import { credentialsFor, DEFAULT_DOMAIN, removeCredentials, saveCredentials } from '../../registry/index.js';
import { BERTH_VERSION, API_VERSION } from '../../api/version.js';
import { parseFlags } from '../args.js';
import { connect, type Globals } from './connect.js';
import { render } from './format.js';
import { humanSize } from './output.js';

export async function version(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { format: { short: 'f', type: 'string' } });
  const c = connect(g);
  try {
    const client = { Version: BERTH_VERSION, ApiVersion: API_VERSION, DefaultAPIVersion: API_VERSION, GoVersion: `node${process.versions.node}`, Os: 'linux', Arch: process.arch === 'x64' ? 'amd64' : process.arch, Platform: { Name: 'Berth' } };
    const server = await c.versionInfo();
    const data = { Client: { ...client, APIVersion: client.ApiVersion }, Server: { ...server, APIVersion: server.ApiVersion } };
    if (p.flags.format) { process.stdout.write(`${render(String(p.flags.format), data)}\n`); return 0; }
    const eng = server.Components.find((x) => x.Name === 'Engine');
    process.stdout.write(`Client: Berth\n Version:           ${client.Version}\n API version:       ${client.ApiVersion}\n Node version:      ${process.versions.node}\n OS/Arch:           linux/${client.Arch}\n\n`);
    process.stdout.write(`Server: ${server.Platform.Name}\n Engine:\n  Version:          ${server.Version}\n  API version:      ${server.ApiVersion} (minimum version ${server.MinAPIVersion})\n  Go version:       ${server.GoVersion}\n  Git commit:       ${server.GitCommit}\n  OS/Arch:          ${server.Os}/${server.Arch}\n  Experimental:     ${eng?.Details?.Experimental ?? 'false'}\n`);
    for (const comp of server.Components.filter((x) => x.Name !== 'Engine')) process.stdout.write(` ${comp.Name}:\n  Version:          ${comp.Version}\n`);
    return 0;
  } finally { c.close(); }
}

export async function info(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { format: { short: 'f', type: 'string' } });
  const c = connect(g);
  try {
    const i = await c.info();
    if (p.flags.format) { process.stdout.write(`${render(String(p.flags.format), i)}\n`); return 0; }
    const lines = [
      'Server:',
      ` Containers: ${i.Containers}`, `  Running: ${i.ContainersRunning}`, `  Paused: ${i.ContainersPaused}`, `  Stopped: ${i.ContainersStopped}`,
      ` Images: ${i.Images}`, ` Server Version: ${i.ServerVersion}`, ` Storage Driver: ${i.Driver}`,
      ...i.DriverStatus.map(([k, v]) => `  ${k}: ${v}`),
      ` Logging Driver: ${i.LoggingDriver}`, ` Cgroup Driver: ${i.CgroupDriver}`, ` Cgroup Version: ${i.CgroupVersion}`,
      ` Default Runtime: ${i.DefaultRuntime}`, ` Kernel Version: ${i.KernelVersion}`, ` Operating System: ${i.OperatingSystem}`,
      ` OSType: ${i.OSType}`, ` Architecture: ${i.Architecture}`, ` CPUs: ${i.NCPU}`, ` Total Memory: ${(i.MemTotal / 2 ** 30).toFixed(2)}GiB (${humanSize(i.MemTotal)})`,
      ` Name: ${i.Name}`, ` ID: ${i.ID}`, ` Docker Root Dir: ${i.DockerRootDir}`, ` Debug Mode: ${i.Debug}`, ` Live Restore Enabled: ${i.LiveRestoreEnabled}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    for (const w of i.Warnings) process.stderr.write(`${w}\n`);
    return 0;
  } finally { c.close(); }
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const x of process.stdin) parts.push(x as Buffer);
  return Buffer.concat(parts).toString('utf8').replace(/\r?\n$/, '');
}

function serverHost(s: string | undefined): string {
  if (!s) return DEFAULT_DOMAIN;
  const h = s.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return h === 'index.docker.io' || h === 'registry-1.docker.io' ? DEFAULT_DOMAIN : h;
}

/** docker login: the daemon checks the credentials (POST /auth); the CLI stores them in $DOCKER_CONFIG/config.json. */
export async function login(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { username: { short: 'u', type: 'string' }, password: { short: 'p', type: 'string' }, 'password-stdin': { type: 'bool' } });
  const host = serverHost(p.positionals[0]);
  const username = p.flags.username as string | undefined;
  let password = p.flags.password as string | undefined;
  if (p.flags['password-stdin']) {
    if (password) throw new BerthError('InvalidArgument', '--password and --password-stdin are mutually exclusive');
    if (!username) throw new BerthError('InvalidArgument', 'Must provide --username with --password-stdin');
    password = await readStdin();
  }
  if (password && !p.flags['password-stdin']) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  if (!username || !password) {
    const saved = credentialsFor(host);
    if (!saved?.username) throw new BerthError('InvalidArgument', 'berth login needs --username and --password-stdin (no interactive prompt)');
  }
  const c = connect(g);
  try {
    const creds = username && password ? { username, password } : credentialsFor(host)!;
    const r = await c.auth({ username: creds.username, password: creds.password, serveraddress: host });
    if (username && password) saveCredentials(host, { username, password });
    process.stdout.write(`${r.Status}\n`);
    return 0;
  } finally { c.close(); }
}

export async function logout(_g: Globals, args: string[]): Promise<number> {
  const host = serverHost(args[0]);
  if (removeCredentials(host)) process.stdout.write(`Removing login credentials for ${host === DEFAULT_DOMAIN ? 'https://index.docker.io/v1/' : host}\n`);
  else process.stdout.write(`Not logged in to ${host}\n`);
  return 0;
}

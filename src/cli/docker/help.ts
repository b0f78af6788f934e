// cli/docker/help: `berth COMMAND --help` and `berth help COMMAND`, in the docker CLI's layout. The flag
// tables stay with their commands (parseFlags throws HelpRequested with them); this module holds only
// the words: each command's usage line and summary, and what each flag means.
import type { FlagSpec } from '../args.js';

/** long: what docker prints after the summary (its command's Long text past the first line) */
export interface CommandHelp { usage: string; summary: string; long?: string; flags?: Record<string, string> }

/** What a flag means wherever it appears; COMMANDS[…].flags overrides a name for one command. */
const FLAGS: Record<string, string> = {
  all: 'Show all (default hides some)',
  attach: 'Attach to STDIN, STDOUT or STDERR',
  'cap-add': 'Add Linux capabilities',
  'cap-drop': 'Drop Linux capabilities',
  cgroupns: 'Cgroup namespace to use (host|private)',
  'cgroup-parent': 'Optional parent cgroup for the container',
  'cpu-period': 'Limit CPU CFS (Completely Fair Scheduler) period',
  'cpu-quota': 'Limit CPU CFS (Completely Fair Scheduler) quota',
  'cpu-shares': 'CPU shares (relative weight)',
  cpus: 'Number of CPUs',
  'cpuset-cpus': 'CPUs in which to allow execution (0-3, 0,1)',
  'cpuset-mems': 'MEMs in which to allow execution (0-3, 0,1)',
  detach: 'Run container in background and print container ID',
  'detach-keys': 'Override the key sequence for detaching a container',
  device: 'Add a host device to the container',
  digests: 'Show digests',
  domainname: 'Container NIS domain name',
  'add-host': 'Add a custom host-to-IP mapping (host:ip)',
  dns: 'Set custom DNS servers',
  'dns-opt': 'Set DNS options',
  'dns-option': 'Set DNS options',
  'dns-search': 'Set custom DNS search domains',
  'mac-address': 'Container MAC address (e.g., 92:d0:c6:0a:29:33)',
  'network-alias': 'Add network-scoped alias for the container',
  link: 'Add link to another container (name[:alias]): on the default bridge its address, ports and env as variables; on a user network an alias only this container resolves',
  entrypoint: 'Overwrite the default ENTRYPOINT of the image',
  env: 'Set environment variables',
  'env-file': 'Read in a file of environment variables',
  expose: 'Expose a port or a range of ports',
  filter: 'Filter output based on conditions provided',
  publish: "Publish a container's port(s) to the host",
  'publish-all': 'Publish all exposed ports to random ports',
  force: 'Force the removal',
  format: 'Pretty-print using a Go template',
  'group-add': 'Add additional groups to join',
  'health-cmd': 'Command to run to check health',
  'health-interval': 'Time between running the check (ms|s|m|h) (default 0s)',
  'health-retries': 'Consecutive failures needed to report unhealthy',
  'health-start-interval': 'Time between running the check during the start period (ms|s|m|h) (default 0s)',
  'health-start-period': 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)',
  'health-timeout': 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)',
  hostname: 'Container host name',
  init: 'Run an init inside the container that forwards signals and reaps processes',
  interactive: 'Keep STDIN open even if not attached',
  ip: 'IPv4 address (e.g., 172.30.100.104)',
  ipc: 'IPC mode to use',
  label: 'Set meta data on a container',
  'log-driver': 'Logging driver for the container',
  'log-opt': 'Log driver options',
  mount: 'Attach a filesystem mount to the container',
  'volumes-from': 'Mount volumes from the specified container(s)',
  memory: 'Memory limit',
  'memory-reservation': 'Memory soft limit',
  'memory-swap': "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
  name: 'Assign a name to the container',
  net: 'Connect a container to a network (same as --network)',
  network: 'Connect a container to a network',
  'no-healthcheck': 'Disable any container-specified HEALTHCHECK',
  'no-trunc': "Don't truncate output",
  'oom-kill-disable': 'Disable OOM Killer',
  'oom-score-adj': "Tune host's OOM preferences (-1000 to 1000)",
  pid: 'PID namespace to use',
  'pids-limit': 'Tune container pids limit (set -1 for unlimited)',
  platform: 'Set platform if server is multi-platform capable',
  privileged: 'Give extended privileges to this container',
  pull: 'Pull image before running ("always"|"missing"|"never")',
  quiet: 'Suppress the pull output',
  'read-only': "Mount the container's root filesystem as read only",
  restart: 'Restart policy to apply when a container exits (default "no")',
  rm: 'Automatically remove the container when it exits',
  'security-opt': 'Security Options',
  'shm-size': 'Size of /dev/shm',
  'sig-proxy': 'Proxy received signals to the process',
  'stop-signal': 'Signal to stop a container',
  'stop-timeout': 'Timeout (in seconds) to stop a container',
  sysctl: 'Sysctl options',
  tmpfs: 'Mount a tmpfs directory',
  tty: 'Allocate a pseudo-TTY',
  ulimit: 'Ulimit options',
  user: 'Username or UID (format: <name|uid>[:<group|gid>])',
  uts: 'UTS namespace to use',
  volume: 'Bind mount a volume',
  workdir: 'Working directory inside the container',
};

/** Usage and summary per command, keyed as typed: "run", "image ls", "container rm". */
export const COMMANDS: Record<string, CommandHelp> = {
  run: { usage: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]', summary: 'Create and run a new container from an image' },
  create: { usage: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]', summary: 'Create a new container', flags: { quiet: 'Suppress the pull output' } },
  start: { usage: 'start [OPTIONS] CONTAINER [CONTAINER...]', summary: 'Start one or more stopped containers', flags: { attach: "Attach STDOUT/STDERR and forward signals", interactive: "Attach container's STDIN" } },
  stop: { usage: 'stop [OPTIONS] CONTAINER [CONTAINER...]', summary: 'Stop one or more running containers', flags: { time: 'Seconds to wait before killing the container', timeout: 'Seconds to wait before killing the container', signal: 'Signal to send to the container' } },
  restart: { usage: 'restart [OPTIONS] CONTAINER [CONTAINER...]', summary: 'Restart one or more containers', flags: { time: 'Seconds to wait before killing the container', timeout: 'Seconds to wait before killing the container', signal: 'Signal to send to the container' } },
  kill: { usage: 'kill [OPTIONS] CONTAINER [CONTAINER...]', summary: 'Kill one or more running containers', flags: { signal: 'Signal to send to the container' } },
  rm: { usage: 'rm [OPTIONS] CONTAINER [CONTAINER...]', summary: 'Remove one or more containers', flags: { force: 'Force the removal of a running container (uses SIGKILL)', volumes: 'Remove anonymous volumes associated with the container', link: 'Remove the specified link' } },
  ps: { usage: 'ps [OPTIONS]', summary: 'List containers', flags: { all: 'Show all containers (default shows just running)', quiet: 'Only display container IDs', last: 'Show n last created containers (includes all states)', latest: 'Show the latest created container (includes all states)', size: 'Display total file sizes' } },
  logs: { usage: 'logs [OPTIONS] CONTAINER', summary: 'Fetch the logs of a container', flags: { follow: 'Follow log output', tail: 'Number of lines to show from the end of the logs', timestamps: 'Show timestamps', since: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)', until: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)', details: 'Show extra details provided to logs' } },
  attach: { usage: 'attach [OPTIONS] CONTAINER', summary: "Attach local standard input, output, and error streams to a running container", flags: { 'no-stdin': 'Do not attach STDIN' } },
  inspect: { usage: 'inspect [OPTIONS] NAME|ID [NAME|ID...]', summary: 'Return low-level information on Docker objects', flags: { type: 'Return JSON for specified type', size: 'Display total file sizes if the type is container' } },
  wait: { usage: 'wait CONTAINER [CONTAINER...]', summary: 'Block until one or more containers stop, then print their exit codes' },
  rename: { usage: 'rename CONTAINER NEW_NAME', summary: 'Rename a container' },
  exec: { usage: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]', summary: 'Execute a command in a running container', flags: { detach: 'Detached mode: run command in the background', env: 'Set environment variables', privileged: 'Give extended privileges to the command' } },
  stats: { usage: 'stats [OPTIONS] [CONTAINER...]', summary: 'Display a live stream of container(s) resource usage statistics', flags: { all: 'Show all containers (default shows just running)', 'no-stream': 'Disable streaming stats and only pull the first result' } },
  top: { usage: 'top CONTAINER [ps OPTIONS]', summary: 'Display the running processes of a container' },
  pause: { usage: 'pause CONTAINER [CONTAINER...]', summary: 'Pause all processes within one or more containers' },
  unpause: { usage: 'unpause CONTAINER [CONTAINER...]', summary: 'Unpause all processes within one or more containers' },
  update: { usage: 'update [OPTIONS] CONTAINER [CONTAINER...]', summary: 'Update configuration of one or more containers', flags: { 'blkio-weight': 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' } },
  images: { usage: 'images [OPTIONS] [REPOSITORY[:TAG]]', summary: 'List images', flags: { all: 'Show all images (default hides intermediate images)', quiet: 'Only show image IDs' } },
  pull: { usage: 'pull [OPTIONS] NAME[:TAG|@DIGEST]', summary: 'Pull an image or a repository from a registry', flags: { 'all-tags': 'Download all tagged images in the repository', quiet: 'Suppress verbose output' } },
  push: { usage: 'push [OPTIONS] NAME[:TAG]', summary: 'Push an image or a repository to a registry', flags: { 'all-tags': 'Push all tagged images in the repository', quiet: 'Suppress verbose output' } },
  tag: { usage: 'tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]', summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE' },
  rmi: { usage: 'rmi [OPTIONS] IMAGE [IMAGE...]', summary: 'Remove one or more images', flags: { force: 'Force removal of the image', 'no-prune': 'Do not delete untagged parents' } },
  save: { usage: 'save [OPTIONS] IMAGE [IMAGE...]', summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)', flags: { output: 'Write to a file, instead of STDOUT' } },
  load: { usage: 'load [OPTIONS]', summary: 'Load an image from a tar archive or STDIN', flags: { input: 'Read from tar archive file, instead of STDIN', quiet: 'Suppress the load output' } },
  import: { usage: 'import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]', summary: 'Import the contents from a tarball to create a filesystem image', flags: { message: 'Set commit message for imported image', change: 'Apply Dockerfile instruction to the created image' } },
  build: {
    usage: 'build [OPTIONS] PATH | URL | -', summary: 'Build an image from a Dockerfile',
    flags: {
      tag: 'Name and optionally a tag in the "name:tag" format', file: 'Name of the Dockerfile (Default is "PATH/Dockerfile")',
      'build-arg': 'Set build-time variables', target: 'Set the target build stage to build', 'no-cache': 'Do not use cache when building the image',
      quiet: 'Suppress the build output and print image ID on success', label: 'Set metadata for an image', iidfile: 'Write the image ID to the file',
      pull: 'Always attempt to pull a newer version of the image', rm: 'Remove intermediate containers after a successful build (default true)',
      'force-rm': 'Always remove intermediate containers', network: 'Set the networking mode for the RUN instructions during build (default "default")',
      'cache-from': 'Images to consider as cache sources',
    },
  },
  builder: { usage: 'builder COMMAND', summary: 'Manage builds' },
  'builder prune': {
    usage: 'builder prune', summary: 'Remove build cache',
    flags: { all: 'Remove all unused build cache, not just dangling ones', force: 'Do not prompt for confirmation', filter: 'Provide filter values (e.g. "until=24h")', 'keep-storage': 'Amount of disk space to keep for cache' },
  },
  history: { usage: 'history [OPTIONS] IMAGE', summary: 'Show the history of an image', flags: { human: 'Print sizes and dates in human readable format', quiet: 'Only show image IDs' } },
  login: { usage: 'login [OPTIONS] [SERVER]', summary: 'Log in to a registry', flags: { username: 'Username', password: 'Password', 'password-stdin': 'Take the password from stdin' } },
  logout: { usage: 'logout [SERVER]', summary: 'Log out from a registry' },
  version: { usage: 'version [OPTIONS]', summary: 'Show the Berth version information' },
  info: { usage: 'info [OPTIONS]', summary: 'Display system-wide information' },
  events: { usage: 'events [OPTIONS]', summary: 'Get real time events from the server', flags: { since: 'Show all events created since timestamp', until: 'Stream events until this timestamp' } },
  cp: { usage: 'cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH', summary: 'Copy files/folders between a container and the local filesystem',
    long: "Use '-' as the source to read a tar archive from stdin\nand extract it to a directory destination in a container.\nUse '-' as the destination to stream a tar archive of a\ncontainer source to stdout.",
    flags: { archive: 'Archive mode (copy all uid/gid information)', 'follow-link': 'Always follow symbol link in SRC_PATH', quiet: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' } },
  diff: { usage: 'diff CONTAINER', summary: "Inspect changes to files or directories on a container's filesystem" },
  export: { usage: 'export [OPTIONS] CONTAINER', summary: "Export a container's filesystem as a tar archive", flags: { output: 'Write to a file, instead of STDOUT' } },
  commit: { usage: 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]', summary: "Create a new image from a container's changes", flags: { author: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")', change: 'Apply Dockerfile instruction to the created image', message: 'Commit message', pause: 'Pause container during commit (default true)' } },
  'container prune': { usage: 'container prune [OPTIONS]', summary: 'Remove all stopped containers', flags: { force: 'Do not prompt for confirmation', filter: 'Provide filter values (e.g. "until=<timestamp>")' } },
  'system prune': { usage: 'system prune [OPTIONS]', summary: 'Remove unused data', flags: { all: 'Remove all unused images not just dangling ones', force: 'Do not prompt for confirmation', volumes: 'Prune anonymous volumes', filter: 'Provide filter values (e.g. "label=<key>=<value>")' } },
  system: { usage: 'system COMMAND', summary: 'Manage Berth' },
  'system df': { usage: 'system df [OPTIONS]', summary: 'Show docker disk usage', flags: { verbose: 'Show detailed information on space usage' } },
  'system info': { usage: 'system info [OPTIONS]', summary: 'Display system-wide information' },
  'system events': { usage: 'system events [OPTIONS]', summary: 'Get real time events from the server', flags: { since: 'Show all events created since timestamp', until: 'Stream events until this timestamp' } },
  image: { usage: 'image COMMAND', summary: 'Manage images' },
  'image ls': { usage: 'image ls [OPTIONS] [REPOSITORY[:TAG]]', summary: 'List images', flags: { all: 'Show all images (default hides intermediate images)', quiet: 'Only show image IDs' } },
  'image inspect': { usage: 'image inspect [OPTIONS] IMAGE [IMAGE...]', summary: 'Display detailed information on one or more images' },
  'image prune': { usage: 'image prune [OPTIONS]', summary: 'Remove unused images', flags: { all: 'Remove all unused images, not just dangling ones', force: 'Do not prompt for confirmation', filter: 'Provide filter values (e.g. "until=<timestamp>")' } },
  container: { usage: 'container COMMAND', summary: 'Manage containers' },
  port: { usage: 'port CONTAINER [PRIVATE_PORT[/PROTO]]', summary: 'List port mappings or a specific mapping for the container' },
  volume: { usage: 'volume COMMAND', summary: 'Manage volumes' },
  'volume create': { usage: 'volume create [OPTIONS] [VOLUME]', summary: 'Create a volume', flags: { driver: 'Specify volume driver name', label: 'Set metadata for a volume', opt: 'Set driver specific options', name: 'Specify volume name' } },
  'volume ls': { usage: 'volume ls [OPTIONS]', summary: 'List volumes', flags: { quiet: 'Only display volume names', filter: "Provide filter values (e.g. 'dangling=true')", cluster: 'Display only cluster volumes, and use cluster volume list formatting' } },
  'volume inspect': { usage: 'volume inspect [OPTIONS] VOLUME [VOLUME...]', summary: 'Display detailed information on one or more volumes' },
  'volume rm': { usage: 'volume rm [OPTIONS] VOLUME [VOLUME...]', summary: 'Remove one or more volumes. You cannot remove a volume that is in use by a container.', flags: { force: 'Force the removal of one or more volumes' } },
  'volume prune': { usage: 'volume prune [OPTIONS]', summary: 'Remove unused local volumes', flags: { all: 'Remove all unused volumes, not just anonymous ones', force: 'Do not prompt for confirmation', filter: 'Provide filter values (e.g. "label=<label>")' } },
  network: { usage: 'network COMMAND', summary: 'Manage networks' },
  'network create': { usage: 'network create [OPTIONS] NETWORK', summary: 'Create a network', flags: {
    driver: 'Driver to manage the Network (default "bridge")', internal: 'Restrict external access to the network', attachable: 'Enable manual container attachment',
    label: 'Set metadata on a network', opt: 'Set driver specific options', subnet: 'Subnet in CIDR format that represents a network segment',
    gateway: 'IPv4 or IPv6 Gateway for the master subnet', 'ip-range': 'Allocate container ip from a sub-range', 'ipam-driver': 'IP Address Management Driver (default "default")',
    'ipam-opt': 'Set IPAM driver specific options', ipv6: 'Enable IPv6 networking (not supported by Berth)', scope: "Control the network's scope" } },
  'network ls': { usage: 'network ls [OPTIONS]', summary: 'List networks', flags: { filter: 'Provide filter values (e.g. "driver=bridge")', 'no-trunc': 'Do not truncate the output', quiet: 'Only display network IDs' } },
  'network inspect': { usage: 'network inspect [OPTIONS] NETWORK [NETWORK...]', summary: 'Display detailed information on one or more networks', flags: { verbose: 'Verbose output for diagnostics' } },
  'network rm': { usage: 'network rm NETWORK [NETWORK...]', summary: 'Remove one or more networks', flags: { force: 'Do not error if the network does not exist' } },
  'network prune': { usage: 'network prune [OPTIONS]', summary: 'Remove all unused networks', flags: { force: 'Do not prompt for confirmation', filter: 'Provide filter values (e.g. "until=<timestamp>")' } },
  'network connect': { usage: 'network connect [OPTIONS] NETWORK CONTAINER', summary: 'Connect a container to a network', flags: {
    alias: 'Add network-scoped alias for the container', ip: 'IPv4 address (e.g., "172.30.100.104")', ip6: 'IPv6 address (not supported by Berth)',
    'driver-opt': 'driver options for the network', link: 'Add link to another container (name[:alias]): an alias only this container resolves on the network', 'link-local-ip': 'Add a link-local address for the container (ignored)' } },
  'container inspect': { usage: 'container inspect [OPTIONS] CONTAINER [CONTAINER...]', summary: 'Display detailed information on one or more containers', flags: { size: 'Display total file sizes', type: 'Return JSON for specified type' } },
  'network disconnect': { usage: 'network disconnect [OPTIONS] NETWORK CONTAINER', summary: 'Disconnect a container from a network', flags: { force: 'Force the container to disconnect from a network' } },
};

/** The same help under the group's other names: `image rm` is `rmi`, `container ls` is `ps`. */
const ALIASES: Record<string, string> = {
  'image list': 'image ls', 'image pull': 'pull', 'image push': 'push', 'image tag': 'tag', 'image rm': 'rmi', 'image remove': 'rmi',
  'image build': 'build', 'image save': 'save', 'image load': 'load', 'image import': 'import', 'image history': 'history',
  'volume list': 'volume ls', 'volume remove': 'volume rm',
  'network list': 'network ls', 'network remove': 'network rm',
  'container ls': 'ps', 'container list': 'ps', 'container ps': 'ps', 'container remove': 'rm',
};

/** The name a command's help is filed under (`container ls` is `ps`). */
function canonical(name: string): string {
  return COMMANDS[name] ? name : ALIASES[name] ?? (name.startsWith('container ') ? name.slice('container '.length) : name);
}

/** pflag's type word where docker's flag type is not the value's plain kind (opts.FilterOpt, opts.MapOpts). */
const TYPE_WORDS: Record<string, string> = { filter: 'filter', 'ps last': 'int', 'volume create opt': 'map', 'network create opt': 'map', 'network create ipam-opt': 'map' };
/** pflag's "(default …)" where docker's flag has a non-zero default. */
const DEFAULTS: Record<string, string> = {
  'volume create driver': '"local"', 'volume create opt': 'map[]', 'network create driver': '"bridge"', 'network create ipam-driver': '"default"',
  'network create opt': 'map[]', 'network create ipam-opt': 'map[]', 'logs tail': '"all"', 'ps last': '-1',
};

export function commandHelp(name: string): CommandHelp | undefined {
  const direct = COMMANDS[name];
  if (direct) return direct;
  const alias = canonical(name) !== name ? canonical(name) : undefined;
  const h = alias ? COMMANDS[alias] : undefined;
  return h && { ...h, usage: `${name} ${h.usage.split(' ').slice(alias!.split(' ').length).join(' ')}`.trim() };
}

export function flagHelp(command: string, flag: string): string {
  return commandHelp(command)?.flags?.[flag] ?? FLAGS[flag] ?? '';
}

/**
 * pflag's wrap (FlagUsagesWrapped): the text after column `i` wrapped to `cols`, continuation lines indented
 * to `i`; a line may run 5 over rather than leave a short last word; under 24 columns it goes on a line of its
 * own at column 16 (and is not wrapped under 24 there either).
 */
export function wrapFlag(i: number, cols: number, s: string): string {
  const cut = (n: number, slop: number, t: string): [string, string] => {
    if (n + slop > t.length) return [t, ''];
    const w = Math.max(t.lastIndexOf(' ', n - 1), t.lastIndexOf('\t', n - 1), t.lastIndexOf('\n', n - 1));
    if (w <= 0) return [t, ''];
    const nl = t.lastIndexOf('\n', n - 1);
    if (nl > 0 && nl < w) return [t.slice(0, nl), t.slice(nl + 1)];
    return [t.slice(0, w), t.slice(w + 1)];
  };
  let width = cols - i;
  let r = '';
  if (width < 24) { i = 16; width = cols - i; r = `\n${' '.repeat(i)}`; }
  if (width < 24) return s.replaceAll('\n', r);
  const indent = (t: string) => t.replaceAll('\n', `\n${' '.repeat(i)}`);
  let [line, rest] = cut(width - 5, 5, s);
  r += indent(line);
  while (rest) { [line, rest] = cut(width - 5, 5, rest); r += `\n${' '.repeat(i)}${indent(line)}`; }
  return r;
}

/** docker's layout: usage, summary (and its long description), then the flags sorted by name, their descriptions wrapped as pflag's. */
export function formatHelp(command: string, specs: Record<string, FlagSpec>, subcommands: string[] = [], aliases: string[] = []): string {
  const h = commandHelp(command);
  // docker 28 starts with the usage line (no blank line first)
  const out = [`Usage:  berth ${h?.usage ?? `${command} [OPTIONS]`}\n`, `\n${h?.summary ?? ''}\n`, ...(h?.long ? [`\n${h.long}\n`] : [])];
  // every name the command answers to, as docker's usage template lists them
  if (aliases.length > 1) out.push(`\nAliases:\n  ${aliases.map((a) => `berth ${a}`).join(', ')}\n`);
  const key = canonical(command);
  if (subcommands.length) {
    out.push('\nCommands:\n');
    const w = Math.max(...subcommands.map((s) => s.length));
    for (const s of subcommands) out.push(`  ${s.padEnd(w)}  ${commandHelp(`${command} ${s}`)?.summary ?? ''}\n`);
  }
  const names = Object.keys(specs).sort();
  if (names.length) {
    out.push('\nOptions:\n');
    const left = names.map((n) => {
      const s = specs[n]!;
      return `${s.short ? `-${s.short}, ` : '    '}--${n}${s.type === 'bool' ? '' : ` ${TYPE_WORDS[`${key} ${n}`] ?? TYPE_WORDS[n] ?? s.type}`}`;
    });
    const w = Math.max(...left.map((l) => l.length));
    // docker/cli wrappedFlagUsages: the terminal's width on stdin, else 80; pflag wraps to one less
    const cols = (process.stdin.isTTY && process.stdout.columns ? process.stdout.columns : 80) - 1;
    names.forEach((n, i) => {
      const def = DEFAULTS[`${key} ${n}`];
      out.push(`  ${left[i]!.padEnd(w)}   ${wrapFlag(w + 5, cols, `${flagHelp(command, n)}${def ? ` (default ${def})` : ''}`)}\n`);
    });
  }
  if (subcommands.length) out.push(`\nRun 'berth ${command} COMMAND --help' for more information on a command.\n`);
  return out.join('');
}

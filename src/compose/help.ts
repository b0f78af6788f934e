// compose/help: usage, summary and flag words of `berth compose` and its subcommands, in the shape
// cli/docker/help.ts prints (its COMMANDS gets these entries at registration).
import type { CommandHelp } from '../cli/docker/help.js';

export const COMPOSE_HELP: Record<string, CommandHelp> = {
  compose: { usage: 'compose [OPTIONS] COMMAND', summary: 'Define and run multi-container applications (Compose Specification)' },
  'compose up': { usage: 'compose up [OPTIONS] [SERVICE...]', summary: 'Create and start containers', flags: {
    detach: 'Detached mode: Run containers in the background', 'force-recreate': "Recreate containers even if their configuration and image haven't changed",
    'no-recreate': "If containers already exist, don't recreate them. Incompatible with --force-recreate.", 'remove-orphans': 'Remove containers for services not defined in the Compose file',
    scale: 'Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.', wait: 'Wait for services to be running|healthy. Implies detached mode.',
    'no-deps': "Don't start linked services", 'no-start': "Don't start the services after creating them", build: 'Build images before starting containers',
    'no-build': "Don't build an image, even if it's policy", 'abort-on-container-exit': 'Stops all containers if any container was stopped. Incompatible with -d',
    'exit-code-from': 'Return the exit code of the selected service container. Implies --abort-on-container-exit', 'quiet-pull': 'Pull without printing progress information',
  } },
  'compose down': { usage: 'compose down [OPTIONS] [SERVICES]', summary: 'Stop and remove containers, networks', flags: {
    volumes: 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers',
    'remove-orphans': 'Remove containers for services not defined in the Compose file', timeout: 'Specify a shutdown timeout in seconds', rmi: 'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")',
  } },
  'compose ps': { usage: 'compose ps [OPTIONS] [SERVICE...]', summary: 'List containers', flags: { all: 'Show all stopped containers (including those created by the run command)', quiet: 'Only display IDs', services: 'Display services', format: 'Format the output: table (default) or json' } },
  'compose logs': { usage: 'compose logs [OPTIONS] [SERVICE...]', summary: 'View output from containers', flags: { follow: 'Follow log output', tail: 'Number of lines to show from the end of the logs for each container', timestamps: 'Show timestamps', 'no-prefix': "Don't print prefix in logs", 'no-color': 'Produce monochrome output' } },
  'compose config': { usage: 'compose config [OPTIONS] [SERVICE...]', summary: 'Parse, resolve and render compose file in canonical format', flags: { services: 'Print the service names, one per line.', volumes: 'Print the volume names, one per line.', quiet: 'Only validate the configuration, don\'t print anything.', format: 'Format the output. Values: [yaml | json]', profiles: 'Print the profile names, one per line.' } },
  'compose exec': { usage: 'compose exec [OPTIONS] SERVICE COMMAND [ARGS...]', summary: 'Execute a command in a running container', flags: { 'no-TTY': 'Disable pseudo-TTY allocation. By default `docker compose exec` allocates a TTY.', user: 'Run the command as this user', workdir: 'Path to workdir directory for this command', env: 'Set environment variables', index: 'Index of the container if service has multiple replicas', detach: 'Detached mode: Run command in the background', privileged: 'Give extended privileges to the process' } },
  'compose run': { usage: 'compose run [OPTIONS] SERVICE [COMMAND] [ARGS...]', summary: 'Run a one-off command on a service', flags: { rm: 'Automatically remove the container when it exits', env: 'Set environment variables', 'no-deps': "Don't start linked services", 'no-TTY': 'Disable pseudo-TTY allocation (default: auto-detected)', user: 'Run as specified username or uid', workdir: 'Working directory inside the container', entrypoint: 'Override the entrypoint of the image', name: 'Assign a name to the container', detach: 'Run container in background and print container ID', 'service-ports': "Run command with all service's ports enabled and mapped to the host" } },
  'compose start': { usage: 'compose start [SERVICE...]', summary: 'Start services' },
  'compose stop': { usage: 'compose stop [OPTIONS] [SERVICE...]', summary: 'Stop services', flags: { timeout: 'Specify a shutdown timeout in seconds' } },
  'compose restart': { usage: 'compose restart [OPTIONS] [SERVICE...]', summary: 'Restart service containers', flags: { timeout: 'Specify a shutdown timeout in seconds' } },
  'compose kill': { usage: 'compose kill [OPTIONS] [SERVICE...]', summary: 'Force stop service containers', flags: { signal: 'SIGNAL to send to the container', 'remove-orphans': 'Remove containers for services not defined in the Compose file' } },
  'compose rm': { usage: 'compose rm [OPTIONS] [SERVICE...]', summary: 'Removes stopped service containers', flags: { force: "Don't ask to confirm removal", stop: 'Stop the containers, if required, before removing', volumes: 'Remove any anonymous volumes attached to containers' } },
  'compose pull': { usage: 'compose pull [OPTIONS] [SERVICE...]', summary: 'Pull service images', flags: { quiet: 'Pull without printing progress information', 'ignore-pull-failures': 'Pull what it can and ignores images with pull failures' } },
  'compose build': { usage: 'compose build [OPTIONS] [SERVICE...]', summary: 'Build or rebuild services', flags: { 'no-cache': 'Do not use cache when building the image', pull: 'Always attempt to pull a newer version of the image', quiet: "Don't print anything to STDOUT", 'build-arg': 'Set build-time variables for services' } },
  'compose pause': { usage: 'compose pause [SERVICE...]', summary: 'Pause services' },
  'compose unpause': { usage: 'compose unpause [SERVICE...]', summary: 'Unpause services' },
  'compose top': { usage: 'compose top [SERVICES...]', summary: 'Display the running processes' },
  'compose port': { usage: 'compose port [OPTIONS] SERVICE PRIVATE_PORT', summary: 'Print the public port for a port binding', flags: { index: 'Index of the container if service has multiple replicas', protocol: 'tcp or udp' } },
  'compose images': { usage: 'compose images [OPTIONS] [SERVICE...]', summary: 'List images used by the created containers', flags: { quiet: 'Only display IDs', format: 'Format the output. Values: [table | json]' } },
  'compose push': { usage: 'compose push [OPTIONS] [SERVICE...]', summary: 'Push service images', flags: { 'ignore-push-failures': 'Push what it can and ignores images with push failures', 'include-deps': 'Also push images of services declared as dependencies', quiet: 'Push without printing progress information' } },
  'compose ls': { usage: 'compose ls [OPTIONS]', summary: 'List running compose projects', flags: { all: 'Show all stopped Compose projects', quiet: 'Only display project names', format: 'Format the output. Values: [table | json]' } },
  'compose version': { usage: 'compose version [OPTIONS]', summary: 'Show the Docker Compose version information', flags: { short: 'Shows only Compose\'s version number', format: 'Format the output. Values: [pretty | json]' } },
};

// Flag descriptions wrapped as docker's help wraps them (docker/cli wrappedFlagUsages: pflag FlagUsagesWrapped
// at 79 columns when stdin is no terminal) and the long descriptions docker prints after the summary. The
// expected text is the docker 28.2.2 CLI's own `cp --help` (stdin not a terminal), docker -> berth.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHelp, wrapFlag } from '../../src/cli/docker/help.js';

test('pflag\'s wrap: at word ends, 5 columns of slop for a last short word, continuation indented', () => {
  assert.equal(wrapFlag(22, 79, 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached'),
    'Suppress progress output during copy. Progress\n                      output is automatically suppressed if no terminal\n                      is attached');
  assert.equal(wrapFlag(22, 79, 'short'), 'short');
  // a word longer than the line stays whole
  assert.equal(wrapFlag(22, 79, 'x'.repeat(70)), 'x'.repeat(70));
  // under 24 columns left: on a line of its own at column 16
  assert.equal(wrapFlag(60, 79, 'Username or UID (format: <name|uid>[:<group|gid>])'), '\n                Username or UID (format: <name|uid>[:<group|gid>])');
});

test('cp --help as docker 28 prints it: the long description, the wrapped --quiet', () => {
  const specs = { archive: { short: 'a', type: 'bool' }, 'follow-link': { short: 'L', type: 'bool' }, quiet: { short: 'q', type: 'bool' } } as const;
  assert.equal(formatHelp('cp', specs, [], ['container cp', 'cp']), [
    'Usage:  berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-',
    '\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
    '',
    'Copy files/folders between a container and the local filesystem',
    '',
    "Use '-' as the source to read a tar archive from stdin",
    'and extract it to a directory destination in a container.',
    "Use '-' as the destination to stream a tar archive of a",
    'container source to stdout.',
    '',
    'Aliases:',
    '  berth container cp, berth cp',
    '',
    'Options:',
    '  -a, --archive       Archive mode (copy all uid/gid information)',
    '  -L, --follow-link   Always follow symbol link in SRC_PATH',
    '  -q, --quiet         Suppress progress output during copy. Progress',
    '                      output is automatically suppressed if no terminal',
    '                      is attached',
    ''].join('\n'));
});

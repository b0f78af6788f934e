// Dockerfile parsing, the builder's word expansion, .dockerignore matching, COPY globs, stage selection
// and context entry names: pure pieces of build/, checked against what docker's classic builder does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { healthcheck, neededStages, splitStages } from '../../src/build/builder.js';
import { cleanEntryName, ignoreMatcher, ignorePatterns } from '../../src/build/context.js';
import { segmentRegex } from '../../src/build/copy.js';
import { parseDockerfile, parseInstruction } from '../../src/build/dockerfile.js';
import { expandText, expandWord, expandWords, keyValues } from '../../src/build/shell-words.js';
import { parseRunMount } from '../../src/build/run-mounts.js';

test('parser: directives, continuations with comments between, flags, JSON and shell forms', () => {
  const df = parseDockerfile([
    '# syntax=docker/dockerfile:1',
    '# escape=`',
    '',
    'FROM --platform=linux/amd64 busybox AS base',
    '# a comment',
    'RUN echo a && `',
    '  # dropped inside a continuation',
    '  echo b',
    'COPY --from=base --chown=1:2 ["a b", "/dst/"]',
    'CMD [not json',
    'run lower-case works',
  ].join('\n'));
  assert.equal(df.escape, '`');
  assert.deepEqual(df.instructions.map((i) => i.cmd), ['from', 'run', 'copy', 'cmd', 'run']);
  assert.deepEqual(df.instructions[0]!.flags, [{ name: 'platform', value: 'linux/amd64' }]);
  assert.equal(df.instructions[0]!.args, 'busybox AS base');
  assert.equal(df.instructions[1]!.args, 'echo a &&   echo b');
  assert.equal(df.instructions[1]!.line, 6);
  assert.deepEqual(df.instructions[2]!.json, ['a b', '/dst/']);
  assert.deepEqual(df.instructions[2]!.flags.map((f) => f.name), ['from', 'chown']);
  assert.equal(df.instructions[3]!.json, undefined, 'not JSON: shell form');
});

test('parser: unknown instruction and missing arguments name the line, as dockerd', () => {
  assert.throws(() => parseDockerfile('FROM x\n\nFROBNICATE y\n'), /dockerfile parse error line 3: unknown instruction: FROBNICATE/);
  assert.throws(() => parseDockerfile('FROM x\nCOPY\n'), /line 2: COPY requires at least one argument/);
});

test('expansion: ${VAR:-x}, ${VAR:+x}, $VAR, quotes and escapes', () => {
  const v = new Map([['A', 'one'], ['E', '']]);
  assert.equal(expandWord('${A:-def}/${B:-def}/${E:-empty}/${E-unset}', v), 'one/def/empty/');
  assert.equal(expandWord('${A:+set}|${B:+set}|${E:+set}', v), 'set||');
  assert.equal(expandWord("$A-'$A'-\"$A\"-\\$A", v), "one-$A-one-$A");
  assert.deepEqual(expandWords('a "b c" $A d\\ e', v), ['a', 'b c', 'one', 'd e']);
  assert.deepEqual(keyValues('X=1 Y="two words" Z=${A}', v, '\\', 'env'), [['X', '1'], ['Y', 'two words'], ['Z', 'one']]);
  assert.deepEqual(keyValues('LEGACY some value $A', v, '\\', 'env'), [['LEGACY', 'some value one']]);
  assert.deepEqual(keyValues('NAME', v, '\\', 'arg'), [['NAME', undefined]]);
});

test('.dockerignore: exclusions, ** and ! exceptions (docker\'s order: the last match wins)', () => {
  const ig = ignoreMatcher(ignorePatterns('# comment\n**/*.log\n!keep.log\nsecret\ndocs\n!docs/README.md\n'), ['Dockerfile']);
  assert.equal(ig('a.log'), true);
  assert.equal(ig('deep/er/b.log'), true);
  assert.equal(ig('keep.log'), false);
  assert.equal(ig('secret'), true);
  assert.equal(ig('docs/x.md'), true);
  assert.equal(ig('docs/README.md'), false);
  assert.equal(ig('main.c'), false);
  assert.equal(ig('.dockerignore'), false);
  assert.equal(ignoreMatcher(['*'], ['Dockerfile'])('Dockerfile'), false, 'the Dockerfile always goes');
});

test('context entry names: cleaned against the context root, so climbing out lands inside (as dockerd)', () => {
  assert.equal(cleanEntryName('./a/b/'), 'a/b');
  assert.equal(cleanEntryName('/abs/x'), 'abs/x');
  assert.equal(cleanEntryName('./'), undefined);
  assert.equal(cleanEntryName('a/../b'), 'b');
  assert.equal(cleanEntryName('../evil'), 'evil');
  assert.equal(cleanEntryName('a/../../evil'), 'evil');
  assert.equal(cleanEntryName('../../../x/../y/'), 'y');
  assert.equal(cleanEntryName('..'), undefined);
  assert.equal(cleanEntryName('//'), undefined);
});

test('COPY globs: Go filepath.Match per segment', () => {
  assert.ok(segmentRegex('*.txt').test('a.txt'));
  assert.ok(!segmentRegex('*.txt').test('a.txt.bak'));
  assert.ok(segmentRegex('file?').test('file1'));
  assert.ok(segmentRegex('[a-c]x').test('bx'));
  assert.ok(!segmentRegex('[^a-c]x').test('bx'));
});

test('stages: --target builds what it needs (FROM a stage, COPY --from) and skips the rest', () => {
  const { meta, stages } = splitStages(parseDockerfile([
    'ARG BASE=busybox', 'FROM $BASE AS a', 'RUN a', 'FROM busybox AS unused', 'RUN u', 'FROM a AS b', 'COPY --from=1 /x /x', 'FROM busybox AS c', 'COPY --from=b /y /y', 'FROM c',
  ].join('\n')).instructions);
  assert.equal(meta.length, 1);
  assert.deepEqual(stages.map((s) => s.name), ['a', 'unused', 'b', 'c', undefined]);
  assert.deepEqual(neededStages(stages, stages[3]!, new Map([['BASE', 'busybox']])).map((s) => s.name), ['a', 'unused', 'b', 'c']);
  assert.deepEqual(neededStages(stages, stages[0]!, new Map()).map((s) => s.name), ['a']);
  assert.throws(() => splitStages(parseDockerfile('RUN x\nFROM y\n').instructions), /no build stage in current context/);
});

test('HEALTHCHECK: CMD shell and exec forms, durations in nanoseconds, NONE', () => {
  assert.deepEqual(healthcheck(parseInstruction('HEALTHCHECK --interval=1m30s --timeout=3s --retries=3 CMD curl -f http://x/ || exit 1', 1)),
    { Test: ['CMD-SHELL', 'curl -f http://x/ || exit 1'], Interval: 90e9, Timeout: 3e9, Retries: 3 });
  assert.deepEqual(healthcheck(parseInstruction('HEALTHCHECK CMD ["true"]', 1)), { Test: ['CMD', 'true'] });
  assert.deepEqual(healthcheck(parseInstruction('HEALTHCHECK NONE', 1)), { Test: ['NONE'] });
  assert.throws(() => healthcheck(parseInstruction('HEALTHCHECK --bogus=1 CMD x', 1)), /Unknown flag: bogus/);
});

test('heredocs (BuildKit syntax): bodies follow the instruction, <<- strips tabs, quoted names do not expand, JSON forms have none', () => {
  const df = parseDockerfile([
    'FROM x',
    'RUN <<EOF',
    'echo one',
    '# not a comment here',
    '',
    'EOF',
    'COPY <<-"A" <<B /dir/',
    '\tfirst $X',
    '\tA',
    'second $X',
    'B',
    'RUN cat <<EOF > /f',
    'x',
    'EOF',
    'RUN ["echo", "<<EOF"]',
    'CMD x',
  ].join('\n'));
  const [, run, copy, cat, json, cmd] = df.instructions;
  assert.deepEqual(run!.heredocs, [{ name: 'EOF', data: 'echo one\n# not a comment here\n\n', expand: true }]);
  assert.deepEqual(copy!.heredocs, [{ name: 'A', data: 'first $X\n', expand: false }, { name: 'B', data: 'second $X\n', expand: true }]);
  assert.equal(copy!.args, '<<-"A" <<B /dir/');
  assert.deepEqual(cat!.heredocs, [{ name: 'EOF', data: 'x\n', expand: true }]);
  assert.equal(json!.heredocs, undefined);
  assert.equal(cmd!.cmd, 'cmd');
  assert.throws(() => parseDockerfile('FROM x\nRUN <<EOF\necho\n'), /line 2: unterminated heredoc EOF/);
  assert.equal(expandText('a "$X" \'$Y\' \\$Z ${X:-d}\\n', new Map([['X', '1'], ['Y', '2']])), 'a "1" \'2\' $Z 1\\n');
});

test('RUN --mount values: types, defaults, targets relative to the workdir, bad values refused', () => {
  assert.deepEqual(parseRunMount('type=cache,target=/root/.cache', '/'),
    { type: 'cache', target: '/root/.cache', id: '/root/.cache', source: '', from: undefined, readonly: false, sharing: 'shared', mode: 0o755, uid: 0, gid: 0 });
  assert.deepEqual(parseRunMount('type=cache,id=pip,dst=c,mode=0700,uid=1000,sharing=locked', '/w'),
    { type: 'cache', target: '/w/c', id: 'pip', source: '', from: undefined, readonly: false, sharing: 'locked', mode: 0o700, uid: 1000, gid: 0 });
  assert.deepEqual(parseRunMount('target=/src', '/'), { type: 'bind', target: '/src', source: '', from: undefined, readonly: true });
  assert.deepEqual(parseRunMount('type=bind,source=a,target=/a,from=build,rw', '/'), { type: 'bind', target: '/a', source: 'a', from: 'build', readonly: false });
  assert.deepEqual(parseRunMount('type=tmpfs,target=/t,size=1048576', '/'), { type: 'tmpfs', target: '/t', size: 1048576 });
  assert.deepEqual(parseRunMount('type=secret,id=tok', '/'), { type: 'secret', id: 'tok', target: '/run/secrets/tok', required: false });
  assert.throws(() => parseRunMount('type=cache', '/'), /failed to parse --mount: mount target must be specified/);
  assert.throws(() => parseRunMount('type=ssh', '/'), /unsupported mount type "ssh"/);
  assert.throws(() => parseRunMount('type=cache,target=/x,sharing=odd', '/'), /unrecognized sharing parameter: odd/);
  assert.throws(() => parseRunMount('type=bind,target=/x,ro=maybe', '/'), /invalid value for ro: maybe/);
});

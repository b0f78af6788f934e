// api/go-json: Go's encoding/json syntax errors, word for word (the strings are what `json.Unmarshal`
// of Go 1.19 returns for each text), and undefined for every text JSON.parse accepts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goJsonSyntaxError } from '../../src/api/go-json.js';
import { parseJson } from '../../src/api/http.js';

test('Go\'s messages for bad JSON', () => {
  const cases: Array<[string, string]> = [
    ['{invalid json', "invalid character 'i' looking for beginning of object key string"],
    ['', 'unexpected end of JSON input'],
    ['{"a":', 'unexpected end of JSON input'],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', "invalid character '\"' after object key:value pair"],
    ['[1 2]', "invalid character '2' after array element"],
    ['{"a":1} x', "invalid character 'x' after top-level value"],
    ['nul', 'unexpected end of JSON input'],
    ['nulx', "invalid character 'x' in literal null (expecting 'l')"],
    ['tru', 'unexpected end of JSON input'],
    ['-x', "invalid character 'x' in numeric literal"],
    ['1.x', "invalid character 'x' after decimal point in numeric literal"],
    ['1ex', "invalid character 'x' in exponent of numeric literal"],
    ['"a\\x"', "invalid character 'x' in string escape code"],
    ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
    ['"a\tb"', "invalid character '\\t' in string literal"],
    ["'a'", "invalid character '\\'' looking for beginning of value"],
    ['{,}', "invalid character ',' looking for beginning of object key string"],
  ];
  for (const [text, want] of cases) assert.equal(goJsonSyntaxError(text), want, JSON.stringify(text));
});

test('valid texts have no error', () => {
  for (const t of ['{}', '[]', ' {"a": [1, -2.5e+3, true, false, null, "x\\u00e9\\n"]} ', '0', '"s"']) {
    JSON.parse(t);
    assert.equal(goJsonSyntaxError(t), undefined, t);
  }
});

test('parseJson reports Go\'s words', () => {
  assert.throws(() => parseJson('{invalid json'), /^BerthError: invalid JSON: invalid character 'i' looking for beginning of object key string$|invalid JSON: invalid character 'i' looking for beginning of object key string/);
});

// api/go-json: the syntax error Go's encoding/json reports for a JSON text, in its words. Docker's API
// answers a bad body with the decoder's message and clients and moby's own tests match on it
// ("invalid character 'i' looking for beginning of object key string"); V8's JSON.parse words it otherwise.
// Only the first syntax error is described; a valid text gives undefined. Pure.

/** Go's quoteChar (encoding/json/scanner.go): 'x', '\'' and '"' as Go prints them. */
function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const q = JSON.stringify(c); // Go's strconv.Quote agrees with JSON for the characters that reach here
  return `'${q.slice(1, -1)}'`;
}

const SPACE = new Set([' ', '\t', '\r', '\n']);

/** The message of Go's SyntaxError for `text`, or undefined when it is valid JSON. */
export function goJsonSyntaxError(text: string): string | undefined {
  let i = 0;
  class Bad extends Error {}
  const fail = (ctx: string): never => { throw new Bad(i >= text.length ? 'unexpected end of JSON input' : `invalid character ${quoteChar(text[i]!)} ${ctx}`); };
  const ws = () => { while (i < text.length && SPACE.has(text[i]!)) i++; };
  const literal = (word: string) => {
    for (let k = 1; k < word.length; k++) {
      i++;
      if (text[i] !== word[k]) fail(`in literal ${word} (expecting ${quoteChar(word[k]!)})`);
    }
    i++;
  };
  const digits = (ctx: string) => {
    if (!/[0-9]/.test(text[i] ?? '')) fail(ctx);
    while (/[0-9]/.test(text[i] ?? '')) i++;
  };
  const number = () => {
    if (text[i] === '-') { i++; if (!/[0-9]/.test(text[i] ?? '')) fail('in numeric literal'); }
    if (text[i] === '0') i++; else digits('in numeric literal');
    if (text[i] === '.') { i++; digits('after decimal point in numeric literal'); }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits('in exponent of numeric literal');
    }
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail('');
      const c = text[i]!;
      if (c === '"') { i++; return; }
      if (c < ' ') fail('in string literal');
      if (c === '\\') {
        i++;
        if (i >= text.length) fail('');
        if (text[i] === 'u') {
          for (let k = 0; k < 4; k++) { i++; if (!/[0-9a-fA-F]/.test(text[i] ?? '')) fail('in \\u hexadecimal character escape'); }
        } else if (!'"\\/bfnrt'.includes(text[i]!)) fail('in string escape code');
      }
      i++;
    }
  };
  const value = (): void => {
    ws();
    if (i >= text.length) fail('');
    const c = text[i]!;
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        if (text[i] !== '"') fail('looking for beginning of object key string');
        string(); ws();
        if (text[i] !== ':') fail('after object key');
        i++; value(); ws();
        if (text[i] === '}') { i++; return; }
        if (text[i] !== ',') fail('after object key:value pair');
        i++; ws();
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(); ws();
        if (text[i] === ']') { i++; return; }
        if (text[i] !== ',') fail('after array element');
        i++;
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    fail('looking for beginning of value');
  };
  try {
    value(); ws();
    if (i < text.length) fail('after top-level value');
    return undefined;
  } catch (e) {
    if (e instanceof Bad) return e.message;
    throw e;
  }
}

/**
 * SourceFile's checks of a file's characters and YAML beyond the library's own errors: the
 * cases that must stay valid (tabs that are text, ordinary aliases, escaped `$${`) next to
 * the broken ones the bad-input corpus holds.
 */
import { describe, expect, it } from 'vitest';
import { SourceFile } from '../../src/definitions/source-file.js';
import { decodeFileText } from '../../src/definitions/file-text.js';
import { parseRefs } from '../../src/definitions/interpolate.js';

const parse = (text: string | Buffer) => new SourceFile('p.yaml', typeof text === 'string' ? text : decodeFileText(text)).parse();
const where = (text: string | Buffer) => parse(text).diagnostics.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.message}`);

describe('tabs', () => {
  it('a tab that is text stays valid: block scalars, quoted strings, separation, comments', () => {
    const ok = ['run: |\n  make:\n  \techo hi\n', 'a: "x\n  \ty"\n', 'a:\tb\n', 'a:\n  b: 1\n\t# a comment\n', 'a: [1,\t2]\n'];
    for (const t of ok) expect(parse(t).diagnostics, JSON.stringify(t)).toEqual([]);
  });

  it('a tab in the indentation of a block or a flow list is named, on its own line', () => {
    expect(where('a:\n\tb: 1\n')).toEqual(['2:1 YAML syntax: a tab is used for indentation: YAML indents with spaces only']);
    expect(where('a:\n  b: [\n    1,\n \t2\n  ]\n')).toEqual(['4:2 YAML syntax: a tab is used for indentation: YAML indents with spaces only']);
  });
});

describe('characters', () => {
  it('invalid UTF-8 is reported at its character, also after multi-byte text', () => {
    expect(where(Buffer.concat([Buffer.from('a: é€\nb: x'), Buffer.from([0xe9]), Buffer.from(' y\n')]))).toEqual([
      '2:5 the file is not valid UTF-8: byte 0xE9 here does not start or continue a UTF-8 character (save the file as UTF-8)',
    ]);
    expect(where(Buffer.from([0x61, 0x3a, 0x20, 0xed, 0xa0, 0x80]))[0]).toMatch(/^1:4 the file is not valid UTF-8: byte 0xED/); // an encoded surrogate
    expect(parse(Buffer.from('a: "é😀"\n')).diagnostics).toEqual([]);
  });

  it('NUL and other control characters are errors; escapes of them are fine', () => {
    expect(where('a: "x\u0000"\n')).toEqual(['1:6 a NUL byte (U+0000) is not allowed in a YAML file: write it as an escape (`"\\x00"`) inside a double-quoted string']);
    expect(where('a: b\u0007\n')[0]).toMatch(/^1:5 the control character U\+0007 is not allowed/);
    expect(parse('a: "\\0 \\x07"\n').value).toEqual({ a: '\u0000 \u0007' });
  });
});

describe('aliases', () => {
  it('ordinary anchors, aliases and merge keys stay valid', () => {
    const t = 'base: &b {x: 1, y: [1, 2, 3]}\none: {<<: *b, z: 1}\ntwo: *b\nlist: [*b, *b, *b]\n';
    expect(parse(t).diagnostics).toEqual([]);
  });

  it('an alias bomb is reported at the alias that takes it over the limit', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const [p, c] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f']]) lines.push(`${c}: &${c} [${Array(10).fill(`*${p}`).join(', ')}]`);
    const d = where(lines.join('\n') + '\n');
    expect(d).toHaveLength(1);
    expect(d[0]).toMatch(/^5:\d+ YAML: alias bomb: with alias `\*d`/);
  });
});

describe('references', () => {
  it('an unclosed `${` is an error at its offset; `$${` stays a literal', () => {
    expect(parseRefs('x ${env:HOME').error).toEqual({ offset: 2, message: 'unclosed reference `${env:HOME`: a reference ends with `}` (write `$${` for a literal `${`)' });
    expect(parseRefs('${var:a} then ${secret:b').error?.offset).toBe(14);
    expect(parseRefs('$${not closed').error).toBeUndefined();
    expect(parseRefs('${env:A:-x} $${y}').error).toBeUndefined();
  });
});

import { describe, expect, test } from 'vitest';
import { formatSelection, parseSelection, type SelectionNode } from '../../src/selection/index.js';

/** Parses or fails the test with the diagnostics. */
function parse(text: string): SelectionNode {
  const r = parseSelection(text);
  if (!r.ok) throw new Error(`${text}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r.value;
}

/** The canonical form: shows how the parser grouped the expression. */
const canon = (text: string): string => formatSelection(parse(text));

/** Strips spans so trees can be compared structurally. */
function shape(node: SelectionNode): unknown {
  return JSON.parse(JSON.stringify(node, (k, v: unknown) => (k === 'span' || k === 'valueSpan' ? undefined : v === Infinity ? 'all' : v)));
}

describe('operands', () => {
  test('bare patterns, key:, quoted keys', () => {
    expect(shape(parse('openmetadata/*'))).toEqual({ type: 'key', pattern: 'openmetadata/*' });
    expect(shape(parse('*'))).toEqual({ type: 'key', pattern: '*' });
    expect(shape(parse('key:raw/a'))).toEqual({ type: 'key', pattern: 'raw/a' });
    expect(shape(parse('key:"a b"'))).toEqual({ type: 'key', pattern: 'a b' });
    expect(shape(parse('"a b"'))).toEqual({ type: 'key', pattern: 'a b' });
    expect(shape(parse('openmetadata__trino__metadata'))).toEqual({ type: 'key', pattern: 'openmetadata__trino__metadata' });
    expect(shape(parse('key:"say \\"hi\\" \\\\ there"'))).toEqual({ type: 'key', pattern: 'say "hi" \\ there' });
  });

  test('attributes', () => {
    expect(shape(parse('group:openmetadata'))).toEqual({ type: 'attr', name: 'group', value: 'openmetadata' });
    expect(shape(parse('kind:trino'))).toEqual({ type: 'attr', name: 'kind', value: 'trino' });
    expect(shape(parse('owner:data-platform@example.org'))).toEqual({ type: 'attr', name: 'owner', value: 'data-platform@example.org' });
    expect(shape(parse('handler:openmetadata'))).toEqual({ type: 'attr', name: 'handler', value: 'openmetadata' });
    expect(shape(parse('job:critical_metadata_ingestion'))).toEqual({ type: 'attr', name: 'job', value: 'critical_metadata_ingestion' });
    expect(shape(parse('status:failure'))).toEqual({ type: 'attr', name: 'status', value: 'failure' });
    expect(shape(parse('group:"data eng"'))).toEqual({ type: 'attr', name: 'group', value: 'data eng' });
    // Keywords are plain values after `attr:`.
    expect(shape(parse('group:and'))).toEqual({ type: 'attr', name: 'group', value: 'and' });
    expect(shape(parse('key:or'))).toEqual({ type: 'key', pattern: 'or' });
  });

  test('every status word is accepted', () => {
    for (const s of ['pending', 'running', 'success', 'failure', 'skipped', 'canceled']) {
      expect(shape(parse(`status:${s}`))).toEqual({ type: 'attr', name: 'status', value: s });
    }
  });

  test('tags: name, name=value, quoted in every place', () => {
    expect(shape(parse('tag:source'))).toEqual({ type: 'tag', name: 'source' });
    expect(shape(parse('tag:source=trino'))).toEqual({ type: 'tag', name: 'source', value: 'trino' });
    expect(shape(parse('tag:"team=data eng"'))).toEqual({ type: 'tag', name: 'team', value: 'data eng' });
    expect(shape(parse('tag:team="data eng"'))).toEqual({ type: 'tag', name: 'team', value: 'data eng' });
    expect(shape(parse('tag:"a=b"=c'))).toEqual({ type: 'tag', name: 'a=b', value: 'c' });
    expect(shape(parse('tag:team=""'))).toEqual({ type: 'tag', name: 'team', value: '' });
    expect(shape(parse('tag:"my team"'))).toEqual({ type: 'tag', name: 'my team' });
  });

  test('spans point into the text', () => {
    const n = parse('a or  group:x');
    expect(n.type).toBe('or');
    if (n.type !== 'or') return;
    expect(n.span).toEqual({ start: 0, end: 13 });
    expect(n.operands[1]).toMatchObject({ span: { start: 6, end: 13 }, valueSpan: { start: 12, end: 13 } });
  });
});

describe('boolean operators', () => {
  test('and, or, not, comma, in lower and upper case', () => {
    expect(shape(parse('a and b'))).toEqual({ type: 'and', operands: [{ type: 'key', pattern: 'a' }, { type: 'key', pattern: 'b' }] });
    expect(shape(parse('a AND b'))).toEqual(shape(parse('a and b')));
    expect(shape(parse('a or b'))).toEqual({ type: 'or', operands: [{ type: 'key', pattern: 'a' }, { type: 'key', pattern: 'b' }] });
    expect(shape(parse('a OR b'))).toEqual(shape(parse('a or b')));
    expect(shape(parse('a, b'))).toEqual(shape(parse('a or b')));
    expect(shape(parse('a,b'))).toEqual(shape(parse('a or b')));
    expect(shape(parse('not a'))).toEqual({ type: 'not', operand: { type: 'key', pattern: 'a' } });
    expect(shape(parse('NOT a'))).toEqual(shape(parse('not a')));
    expect(shape(parse('not not a'))).toEqual({ type: 'not', operand: { type: 'not', operand: { type: 'key', pattern: 'a' } } });
  });

  test('chains are n-ary', () => {
    expect(shape(parse('a or b, c OR d'))).toEqual({ type: 'or', operands: ['a', 'b', 'c', 'd'].map((p) => ({ type: 'key', pattern: p })) });
    expect(shape(parse('a and b AND c'))).toEqual({ type: 'and', operands: ['a', 'b', 'c'].map((p) => ({ type: 'key', pattern: p })) });
  });

  test('precedence: not > and > or = comma', () => {
    expect(canon('a or b and c')).toBe('a or (b and c)');
    expect(canon('a and b or c')).toBe('(a and b) or c');
    expect(canon('a, b and c')).toBe('a or (b and c)');
    expect(canon('a and b, c')).toBe('(a and b) or c');
    expect(canon('not a and b')).toBe('not a and b');
    expect(shape(parse('not a and b'))).toEqual({ type: 'and', operands: [{ type: 'not', operand: { type: 'key', pattern: 'a' } }, { type: 'key', pattern: 'b' }] });
    expect(canon('not a or b')).toBe('not a or b');
    expect(canon('a and b or c and d, e')).toBe('(a and b) or (c and d) or e');
    expect(canon('A, B OR C')).toBe('A or B or C');
  });

  test('parentheses override precedence', () => {
    expect(canon('(a or b) and c')).toBe('(a or b) and c');
    expect(canon('not (a or b)')).toBe('not (a or b)');
    expect(canon('((a))')).toBe('a');
    expect(canon('a and (b, c)')).toBe('a and (b or c)');
  });

  test('words that are not exactly an operator are patterns', () => {
    expect(shape(parse('android'))).toEqual({ type: 'key', pattern: 'android' });
    expect(shape(parse('notes and origin'))).toEqual({ type: 'and', operands: [{ type: 'key', pattern: 'notes' }, { type: 'key', pattern: 'origin' }] });
  });
});

describe('graph operators', () => {
  const g = (text: string) => shape(parse(text));
  const a = { type: 'key', pattern: 'a' };
  test('+X, N+X, X+, X+N and both sides', () => {
    expect(g('+a')).toEqual({ type: 'graph', operand: a, up: 'all' });
    expect(g('2+a')).toEqual({ type: 'graph', operand: a, up: 2 });
    expect(g('a+')).toEqual({ type: 'graph', operand: a, down: 'all' });
    expect(g('a+3')).toEqual({ type: 'graph', operand: a, down: 3 });
    expect(g('+a+')).toEqual({ type: 'graph', operand: a, up: 'all', down: 'all' });
    expect(g('2+a+1')).toEqual({ type: 'graph', operand: a, up: 2, down: 1 });
    expect(g('+a+1')).toEqual({ type: 'graph', operand: a, up: 'all', down: 1 });
    expect(g('12+a')).toEqual({ type: 'graph', operand: a, up: 12 });
    expect(g('0+a')).toEqual({ type: 'graph', operand: a, up: 0 });
  });

  test('on groups, functions, attributes and quoted keys', () => {
    expect(g('+(a or b)')).toEqual({ type: 'graph', operand: { type: 'or', operands: [a, { type: 'key', pattern: 'b' }] }, up: 'all' });
    expect(g('2+roots(a)+1')).toEqual({ type: 'graph', operand: { type: 'function', name: 'roots', operand: a }, up: 2, down: 1 });
    expect(g('group:x+')).toEqual({ type: 'graph', operand: { type: 'attr', name: 'group', value: 'x' }, down: 'all' });
    expect(g('+tag:a=b')).toEqual({ type: 'graph', operand: { type: 'tag', name: 'a', value: 'b' }, up: 'all' });
    expect(g('+"a b"+2')).toEqual({ type: 'graph', operand: { type: 'key', pattern: 'a b' }, up: 'all', down: 2 });
    expect(g('+job:j')).toEqual({ type: 'graph', operand: { type: 'attr', name: 'job', value: 'j' }, up: 'all' });
  });

  test('binds tighter than not, and, or', () => {
    expect(canon('not +a')).toBe('not +a');
    expect(shape(parse('not a+'))).toEqual({ type: 'not', operand: { type: 'graph', operand: a, down: 'all' } });
    expect(canon('+a and b+ or 1+c+2')).toBe('(+a and b+) or 1+c+2');
  });

  test('whitespace around a bare + is allowed; depths touch their +', () => {
    expect(g('+ a')).toEqual(g('+a'));
    expect(g('a +')).toEqual(g('a+'));
    expect(g('(a) +')).toEqual(g('a+'));
  });

  test('a key that starts with digits is read as a key unless followed by +X', () => {
    expect(g('2fa+')).toEqual({ type: 'graph', operand: { type: 'key', pattern: '2fa' }, down: 'all' });
    expect(g('2fa')).toEqual({ type: 'key', pattern: '2fa' });
    expect(g('key:2+')).toEqual({ type: 'graph', operand: { type: 'key', pattern: '2' }, down: 'all' });
  });
});

describe('functions', () => {
  test('roots and sinks, nested, with space before (', () => {
    expect(shape(parse('roots(a)'))).toEqual({ type: 'function', name: 'roots', operand: { type: 'key', pattern: 'a' } });
    expect(shape(parse('sinks(a or b)'))).toEqual({ type: 'function', name: 'sinks', operand: { type: 'or', operands: [{ type: 'key', pattern: 'a' }, { type: 'key', pattern: 'b' }] } });
    expect(shape(parse('roots (a)'))).toEqual(shape(parse('roots(a)')));
    expect(canon('sinks(roots(+a))')).toBe('sinks(roots(+a))');
    // Without parentheses the name is a plain key.
    expect(shape(parse('roots'))).toEqual({ type: 'key', pattern: 'roots' });
  });
});

/**
 * Each malformed expression: the exact message and the caret line (relative to the
 * expression; the diagnostic indents both detail lines by two spaces).
 */
const ERRORS: Array<[string, string, string]> = [
  ['', 'empty selection expression', '^'],
  ['   ', 'empty selection expression', '^^^'],
  ['a b', "expected 'and', 'or' or ',' before 'b'", '  ^'],
  ['a "b c"', `expected 'and', 'or' or ',' before '"b c"'`, '  ^^^^^'],
  ['a (b)', "expected 'and', 'or' or ',' before '('", '  ^'],
  ['a not b', "expected 'and', 'or' or ',' before 'not'", '  ^^^'],
  ['a And b', "expected 'and', 'or' or ',' before 'And' (operators are written and/AND, or/OR, not/NOT)", '  ^^^'],
  ['Not a', "expected 'and', 'or' or ',' before 'a' (operators are written and/AND, or/OR, not/NOT)", '    ^'],
  ['group:x kind:y', "expected 'and', 'or' or ',' before 'kind'", '        ^^^^'],
  ['a and', "missing operand after 'and'", '     ^'],
  ['a or', "missing operand after 'or'", '    ^'],
  ['a,', "missing operand after ','", '  ^'],
  ['not', "missing operand after 'not'", '   ^'],
  ['+', "missing operand after '+'", ' ^'],
  ['2+', "missing operand after '+'", '  ^'],
  ['and a', "missing operand before 'and'", '^^^'],
  ['a or or b', "missing operand before 'or'", '     ^^'],
  ['a and , b', "missing operand before ','", '      ^'],
  [', a', "missing operand before ','", '^'],
  ['(a or )', "missing operand before ')'", '      ^'],
  ['()', 'empty parentheses', '^^'],
  ['roots()', 'empty parentheses', '     ^^'],
  ['+not a', "missing operand after '+' ('not' needs parentheses here: +(not X))", ' ^^^'],
  ['(a or b', "unclosed '('", '^'],
  ['a and (b or (c)', "unclosed '('", '      ^'],
  ['roots(a', "unclosed '('", '     ^'],
  [')', "unexpected ')' (no matching '(')", '^'],
  ['a)', "unexpected ')' (no matching '(')", ' ^'],
  ['(a))', "unexpected ')' (no matching '(')", '   ^'],
  ['key:"abc', 'unclosed quote', '    ^^^^'],
  ['a or "b', 'unclosed quote', '     ^^'],
  ['tag:"x\\"', 'unclosed quote', '    ^^^^'],
  ['a & b', "unexpected '&' (use 'and')", '  ^'],
  ['a && b', "unexpected '&' (use 'and')", '  ^'],
  ['a | b', "unexpected '|' (use 'or')", '  ^'],
  ['!a', "unexpected '!' (use 'not')", '^'],
  ["key:'a b'", `unexpected "'" (quote values with double quotes)`, '    ^'],
  ['a; b', "unexpected ';'", ' ^'],
  ['a++', "unexpected '+'", '  ^'],
  ['++a', "unexpected '+'", ' ^'],
  ['xyzzy:b', "unknown attribute 'xyzzy'; attributes: key, group, tag, kind, owner, handler, job, status", '^^^^^'],
  [':a', "unexpected ':'", '^'],
  ['a = b', "unexpected '='", '  ^'],
  ['group:a=b', "unexpected '='", '       ^'],
  ['a+2b', "bad depth number '2b' (expected a whole number of levels, as in 2+X or X+1)", '  ^^'],
  ['a+1.5', "bad depth number '1.5' (expected a whole number of levels, as in 2+X or X+1)", '  ^^^'],
  ['1.5+a', "bad depth number '1.5' (expected a whole number of levels, as in 2+X or X+1)", '^^^'],
  ['99999999999999999999+a', "bad depth number '99999999999999999999' (expected a whole number of levels, as in 2+X or X+1)", '^^^^^^^^^^^^^^^^^^^^'],
  ['a+ 2', "expected 'and', 'or' or ',' before '2'", '   ^'],
  ['grop:x', "unknown attribute 'grop' (did you mean 'group'?)", '^^^^'],
  ['a or tags:x=1', "unknown attribute 'tags' (did you mean 'tag'?)", '     ^^^^'],
  ['GROUP:x', "unknown attribute 'GROUP' (did you mean 'group'?)", '^^^^^'],
  ['stat:failure', "unknown attribute 'stat' (did you mean 'status'?)", '^^^^'],
  ['group:', "missing value after 'group:'", '      ^'],
  ['group: x', "missing value after 'group:'", '       ^'],
  ['group:""', "missing value after 'group:'", '      ^^'],
  ['(kind:)', "missing value after 'kind:'", '      ^'],
  ['tag:', "missing value after 'tag:'", '    ^'],
  ['tag:team=', "missing value after 'tag:team='", '         ^'],
  ['tag:""', "missing tag name after 'tag:'", '    ^^'],
  ['tag:"=x"', "missing tag name after 'tag:'", '    ^^^^'],
  ['""', 'empty asset key', '^^'],
  ['root(a)', "unknown function 'root' (did you mean 'roots'?)", '^^^^'],
  ['sink(a)', "unknown function 'sink' (did you mean 'sinks'?)", '^^^^'],
  ['upstream(a)', "unknown function 'upstream'; functions: roots, sinks", '^^^^^^^^'],
  ['status:failed', "unknown status 'failed' (did you mean 'failure'?)", '       ^^^^^^'],
  ['status:cancelled', "unknown status 'cancelled' (did you mean 'canceled'?)", '       ^^^^^^^^^'],
  ['status:succes', "unknown status 'succes' (did you mean 'success'?)", '       ^^^^^^'],
  ['status:queued', "unknown status 'queued' (did you mean 'pending'?)", '       ^^^^^^'],
  ['status:xyzzy', "unknown status 'xyzzy'; statuses: pending, running, success, failure, skipped, canceled", '       ^^^^^'],
];

describe('malformed expressions', () => {
  test.each(ERRORS)('%j', (text, message, caret) => {
    const r = parseSelection(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics).toHaveLength(1);
    const d = r.diagnostics[0]!;
    expect(d.message).toBe(message);
    expect(d.detail).toEqual([`  ${text}`, `  ${caret}`]);
    expect(d.pos).toBeUndefined();
  });

  test('nesting is limited, not a stack overflow', () => {
    for (const text of ['('.repeat(100_000) + 'a' + ')'.repeat(100_000), 'not '.repeat(50_000) + 'a', 'roots('.repeat(20_000) + 'a' + ')'.repeat(20_000)]) {
      const r = parseSelection(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.diagnostics[0]!.message).toBe('expression nested too deeply (more than 200 levels)');
    }
    expect(parseSelection('('.repeat(200) + 'a' + ')'.repeat(200)).ok).toBe(true);
  });

  test('long flat chains parse without recursion trouble', () => {
    const r = parseSelection(Array.from({ length: 20_000 }, (_, i) => `k${i}`).join(' or '));
    expect(r.ok && r.value.type === 'or' && r.value.operands.length).toBe(20_000);
  });

  test('the caret counts code points and control characters show as spaces', () => {
    const r = parseSelection('🚀 x\ty');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics[0]!.detail).toEqual(['  🚀 x y', '    ^']);
  });

  test('the span is on the diagnostic for callers that map it into a file', () => {
    const r = parseSelection('a or grop:x');
    expect(!r.ok && r.diagnostics[0]).toMatchObject({ span: { start: 5, end: 9 }, expression: 'a or grop:x' });
  });

  test('a non-string is a diagnostic, not a throw', () => {
    expect(parseSelection(undefined as unknown as string)).toEqual({ ok: false, diagnostics: [{ message: 'a selection expression must be a string' }] });
  });
});

describe('formatSelection', () => {
  test.each([
    'openmetadata/*',
    'key:and',
    'key:"2"+',
    'key:"a b"',
    'tag:"a=b"=c',
    'tag:team="data eng"',
    'group:"x,y"',
    'not (a or b) and +c+2',
    '2+(a and b)+',
    'roots(sinks(a or b))',
    'not not a',
    '(a or b) or c',
  ])('%s round-trips', (text) => {
    const once = canon(text);
    expect(canon(once)).toBe(once);
    expect(shape(parse(once))).toEqual(shape(parse(text)));
  });
});

import { describe, expect, test } from 'vitest';
import type { AssetDef } from '../../src/definitions/model.js';
import { checkSelection, evaluateSelection, parseSelection, select, type SelectableAsset, type SelectionContext } from '../../src/selection/index.js';
import { makeContext, type TestAsset } from './helpers.js';

// AssetDef is what the loader produces; it must be usable as a SelectableAsset as is.
const _assetDefIsSelectable = (a: AssetDef): SelectableAsset => a;
void _assetDefIsSelectable;

/**
 *   raw/a -> stg/a \
 *                   mart/ab -> report/x        other/z
 *   raw/b -> stg/b /
 */
const ASSETS: TestAsset[] = [
  { key: 'raw/a', group: 'raw', kinds: ['postgres'], owners: ['alice@x.org'], tags: { layer: 'raw', team: 'data eng' } },
  { key: 'raw/b', group: 'raw', kinds: ['s3'], owners: ['bob'], tags: { layer: 'raw' } },
  { key: 'stg/a', group: 'staging', kinds: ['dbt'], owners: ['alice@x.org'], tags: { layer: 'staging', team: 'data eng' }, deps: ['raw/a'] },
  { key: 'stg/b', group: 'staging', kinds: ['dbt'], tags: { layer: 'staging' }, deps: ['raw/b'] },
  { key: 'mart/ab', group: 'marts', kinds: ['dbt', 'trino'], owners: ['alice@x.org', 'bob'], tags: { layer: 'mart', tier: 'gold' }, deps: ['stg/a', 'stg/b'] },
  { key: 'report/x', group: 'reports', handler: 'openmetadata', kinds: ['superset'], tags: { layer: 'report' }, deps: ['mart/ab'] },
  { key: 'other/z', group: 'misc', handler: 'openmetadata' },
];

const JOBS = {
  staging: 'group:staging',
  marts_up: '+mart/ab',
  nested: 'job:staging or report/x',
  twice: 'job:staging and job:staging',
  self: 'job:self or raw/a',
  loop_a: 'job:loop_b',
  loop_b: 'raw/a or job:loop_a',
  broken: 'raw/a and',
  typo: 'raw/aa',
  failed_only: 'status:failure',
};

const STATUS = { 'raw/a': 'success', 'stg/a': 'success', 'raw/b': 'failure', 'stg/b': 'skipped', 'mart/ab': 'skipped', 'report/x': 'canceled' };

const ctx = makeContext(ASSETS, JOBS, STATUS);
const noHistory = makeContext(ASSETS, JOBS);

/** The keys `text` selects, in the order select() returns them. */
function sel(text: string, c: SelectionContext = ctx): string[] {
  const r = select(text, c);
  if (!r.ok) throw new Error(`${text}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r.value;
}

/** The keys `text` selects, sorted (for comparing sets). */
const set = (text: string, c?: SelectionContext): string[] => [...sel(text, c)].sort();

const TOPO = ['other/z', 'raw/a', 'raw/b', 'stg/a', 'stg/b', 'mart/ab', 'report/x'];

describe('key patterns', () => {
  test('* selects everything, in topological order with ties by key', () => {
    expect(sel('*')).toEqual(TOPO);
  });

  test('globs: * matches any run of characters, / included', () => {
    expect(set('raw/*')).toEqual(['raw/a', 'raw/b']);
    expect(set('*/a')).toEqual(['raw/a', 'stg/a']);
    expect(set('*a*')).toEqual(['mart/ab', 'raw/a', 'raw/b', 'stg/a']);
    expect(set('r*w/*')).toEqual(['raw/a', 'raw/b']);
    expect(set('*/*b')).toEqual(['mart/ab', 'raw/b', 'stg/b']);
    expect(set('m*b')).toEqual(['mart/ab']);
    expect(set('**')).toEqual([...TOPO].sort());
    expect(set('raw/a*')).toEqual(['raw/a']);
  });

  test('exact keys, key:, quoted', () => {
    expect(sel('raw/a')).toEqual(['raw/a']);
    expect(sel('key:stg/*')).toEqual(['stg/a', 'stg/b']);
    expect(sel('"mart/ab"')).toEqual(['mart/ab']);
    expect(sel('key:"report/x"')).toEqual(['report/x']);
  });

  test('legacy __ names, also inside patterns and attributes', () => {
    expect(sel('raw__a')).toEqual(['raw/a']);
    expect(sel('key:raw__a')).toEqual(['raw/a']);
    expect(set('stg__*')).toEqual(['stg/a', 'stg/b']);
    expect(sel('+mart__ab')).toEqual(['raw/a', 'raw/b', 'stg/a', 'stg/b', 'mart/ab']);
  });
});

describe('attributes', () => {
  test('group, kind, owner, handler', () => {
    expect(set('group:staging')).toEqual(['stg/a', 'stg/b']);
    expect(set('kind:dbt')).toEqual(['mart/ab', 'stg/a', 'stg/b']);
    expect(set('kind:trino')).toEqual(['mart/ab']);
    expect(set('owner:alice@x.org')).toEqual(['mart/ab', 'raw/a', 'stg/a']);
    expect(set('owner:bob')).toEqual(['mart/ab', 'raw/b']);
    expect(set('handler:openmetadata')).toEqual(['other/z', 'report/x']);
    expect(set('handler:command')).toEqual(['mart/ab', 'raw/a', 'raw/b', 'stg/a', 'stg/b']);
  });

  test('attribute values may be patterns', () => {
    expect(set('group:r*')).toEqual(['raw/a', 'raw/b', 'report/x']);
    expect(set('owner:*@x.org')).toEqual(['mart/ab', 'raw/a', 'stg/a']);
    expect(set('kind:s*')).toEqual(['raw/b', 'report/x']);
  });

  test('tags: by name, by name=value, quoted, patterns', () => {
    expect(set('tag:layer')).toEqual(['mart/ab', 'raw/a', 'raw/b', 'report/x', 'stg/a', 'stg/b']);
    expect(set('tag:layer=raw')).toEqual(['raw/a', 'raw/b']);
    expect(set('tag:"team=data eng"')).toEqual(['raw/a', 'stg/a']);
    expect(set('tag:team="data eng"')).toEqual(['raw/a', 'stg/a']);
    expect(set('tag:team')).toEqual(['raw/a', 'stg/a']);
    expect(set('tag:layer=st*')).toEqual(['stg/a', 'stg/b']);
    expect(set('tag:*=gold')).toEqual(['mart/ab']);
    expect(set('tag:t*')).toEqual(['mart/ab', 'raw/a', 'stg/a']);
  });

  test('status: the last run of each asset', () => {
    expect(sel('status:success')).toEqual(['raw/a', 'stg/a']);
    expect(sel('status:failure')).toEqual(['raw/b']);
    expect(sel('status:skipped')).toEqual(['stg/b', 'mart/ab']);
    expect(sel('status:canceled')).toEqual(['report/x']);
    // Re-run what failed and everything downstream of it.
    expect(sel('status:failure+')).toEqual(['raw/b', 'stg/b', 'mart/ab', 'report/x']);
    // A status no asset has is not an error by itself.
    expect(sel('status:running or other/z')).toEqual(['other/z']);
  });
});

describe('boolean operators', () => {
  test('or, comma, and, not, upper case', () => {
    expect(set('raw/a or stg/b')).toEqual(['raw/a', 'stg/b']);
    expect(set('raw/a, stg/b')).toEqual(['raw/a', 'stg/b']);
    expect(set('raw/a OR stg/b')).toEqual(['raw/a', 'stg/b']);
    expect(set('kind:dbt and owner:alice@x.org')).toEqual(['mart/ab', 'stg/a']);
    expect(set('kind:dbt AND owner:alice@x.org')).toEqual(['mart/ab', 'stg/a']);
    expect(set('not tag:layer')).toEqual(['other/z']);
    expect(set('NOT tag:layer')).toEqual(['other/z']);
    expect(set('not not other/z')).toEqual(['other/z']);
  });

  test('precedence: not > and > or', () => {
    // or (and) : raw/a or (kind:dbt and tag:tier)
    expect(set('raw/a or kind:dbt and tag:tier')).toEqual(['mart/ab', 'raw/a']);
    expect(set('(raw/a or kind:dbt) and tag:tier')).toEqual(['mart/ab']);
    expect(set('not raw/* and not other/z')).toEqual(['mart/ab', 'report/x', 'stg/a', 'stg/b']);
    expect(set('not (raw/* or other/z)')).toEqual(['mart/ab', 'report/x', 'stg/a', 'stg/b']);
    expect(set('raw/a, kind:dbt and tag:tier')).toEqual(['mart/ab', 'raw/a']);
  });
});

describe('graph operators', () => {
  test('+X, N+X: ancestors, all or up to N levels', () => {
    expect(sel('+report/x')).toEqual(['raw/a', 'raw/b', 'stg/a', 'stg/b', 'mart/ab', 'report/x']);
    expect(sel('1+report/x')).toEqual(['mart/ab', 'report/x']);
    expect(sel('2+report/x')).toEqual(['stg/a', 'stg/b', 'mart/ab', 'report/x']);
    expect(sel('3+report/x')).toEqual(['raw/a', 'raw/b', 'stg/a', 'stg/b', 'mart/ab', 'report/x']);
    expect(sel('0+report/x')).toEqual(['report/x']);
    expect(sel('+raw/a')).toEqual(['raw/a']);
  });

  test('X+, X+N: descendants', () => {
    expect(sel('raw/a+')).toEqual(['raw/a', 'stg/a', 'mart/ab', 'report/x']);
    expect(sel('raw/a+1')).toEqual(['raw/a', 'stg/a']);
    expect(sel('raw/a+2')).toEqual(['raw/a', 'stg/a', 'mart/ab']);
    expect(sel('report/x+')).toEqual(['report/x']);
  });

  test('both sides at once', () => {
    expect(sel('1+mart/ab+1')).toEqual(['stg/a', 'stg/b', 'mart/ab', 'report/x']);
    expect(sel('+stg/a+')).toEqual(['raw/a', 'stg/a', 'mart/ab', 'report/x']);
    expect(sel('2+stg/b+1')).toEqual(['raw/b', 'stg/b', 'mart/ab']);
  });

  test('on groups, attributes, functions and jobs', () => {
    expect(sel('+(stg/a or stg/b)')).toEqual(['raw/a', 'raw/b', 'stg/a', 'stg/b']);
    expect(sel('group:staging+1')).toEqual(['stg/a', 'stg/b', 'mart/ab']);
    expect(sel('tag:tier=gold+')).toEqual(['mart/ab', 'report/x']);
    expect(sel('1+roots(*)')).toEqual(['other/z', 'raw/a', 'raw/b']);
    expect(sel('sinks(raw/a+2)+')).toEqual(['mart/ab', 'report/x']);
    expect(sel('+job:staging')).toEqual(['raw/a', 'raw/b', 'stg/a', 'stg/b']);
  });

  test('roots and sinks are relative to the selection', () => {
    expect(sel('roots(*)')).toEqual(['other/z', 'raw/a', 'raw/b']);
    expect(sel('sinks(*)')).toEqual(['other/z', 'report/x']);
    expect(sel('roots(+mart/ab)')).toEqual(['raw/a', 'raw/b']);
    expect(sel('roots(group:staging or group:marts)')).toEqual(['stg/a', 'stg/b']);
    expect(sel('sinks(raw/a+1)')).toEqual(['stg/a']);
    expect(sel('sinks(stg/a or raw/b)')).toEqual(['raw/b', 'stg/a']);
  });
});

describe('jobs', () => {
  test("job:NAME is that job's selection", () => {
    expect(sel('job:staging')).toEqual(['stg/a', 'stg/b']);
    expect(sel('job:marts_up')).toEqual(['raw/a', 'raw/b', 'stg/a', 'stg/b', 'mart/ab']);
    expect(sel('job:nested')).toEqual(['stg/a', 'stg/b', 'report/x']);
    expect(sel('job:twice or job:staging')).toEqual(['stg/a', 'stg/b']);
    expect(sel('job:marts_up and not job:staging')).toEqual(['raw/a', 'raw/b', 'mart/ab']);
    expect(sel('job:failed_only')).toEqual(['raw/b']);
  });

  test('a job that selects nothing is not an error inside a larger selection', () => {
    const c = makeContext(ASSETS, { none: 'status:pending' }, STATUS);
    expect(sel('job:none or raw/a', c)).toEqual(['raw/a']);
  });
});

/** Evaluates `text`, expecting failure; the diagnostics as [message, caret detail]. */
function errors(text: string, c: SelectionContext = ctx): Array<[string, string[] | undefined]> {
  const r = select(text, c);
  if (r.ok) throw new Error(`${text} selected ${r.value.join(', ')}`);
  return r.diagnostics.map((d) => [d.message, d.detail]);
}

/** The two detail lines for `text` with carets at `caret` (written under the text). */
const at = (text: string, caret: string): string[] => [`  ${text}`, `  ${caret}`];

describe('names that match nothing', () => {
  test.each<[string, string, string]>([
    ['raw/c', "unknown asset key 'raw/c' (did you mean 'raw/a', 'raw/b'?)", '^^^^^'],
    ['raw', "unknown asset key 'raw' (did you mean 'raw/*', 'group:raw'?)", '^^^'],
    ['stg/a or mart/abc', "unknown asset key 'mart/abc' (did you mean 'mart/ab'?)", '         ^^^^^^^^'],
    ['raw__c', "unknown asset key 'raw__c' (did you mean 'raw/a', 'raw/b'?)", '^^^^^^'],
    ['nope/*', "no asset key matches 'nope/*'", '^^^^^^'],
    ['key:"x y"', "unknown asset key 'x y'", '^^^^^^^^^'],
    ['group:stagin', "unknown group 'stagin' (did you mean 'staging'?)", '      ^^^^^^'],
    ['group:xyz', "unknown group 'xyz'; groups: marts, misc, raw, reports, staging", '      ^^^'],
    ['group:foo*', "no group matches 'foo*'; groups: marts, misc, raw, reports, staging", '      ^^^^'],
    ['kind:dbtt', "unknown kind 'dbtt' (did you mean 'dbt'?)", '     ^^^^'],
    ['owner:alice', "unknown owner 'alice' (did you mean 'alice@x.org'?)", '      ^^^^^'],
    ['handler:cmd', "unknown handler 'cmd'; handlers: command, openmetadata", '        ^^^'],
    ['tag:teem', "unknown tag 'teem' (did you mean 'team'?)", '    ^^^^'],
    ['tag:tier=silver', "no asset has tag 'tier=silver'; tags: tier=gold", '    ^^^^^^^^^^^'],
    ['tag:layer=mrt', "no asset has tag 'layer=mrt' (did you mean 'layer=mart'?)", '    ^^^^^^^^^'],
    ['job:stagin', "unknown job 'stagin' (did you mean 'staging'?)", '    ^^^^^^'],
  ])('%j', (text, message, caret) => {
    expect(errors(text)).toEqual([[message, at(text, caret)]]);
  });

  test('every unknown name of an expression is reported, left to right', () => {
    const text = 'raw/c or group:xyz and kind:dbtt';
    expect(errors(text)).toEqual([
      ["unknown asset key 'raw/c' (did you mean 'raw/a', 'raw/b'?)", at(text, '^^^^^')],
      ["unknown group 'xyz'; groups: marts, misc, raw, reports, staging", at(text, '               ^^^')],
      ["unknown kind 'dbtt' (did you mean 'dbt'?)", at(text, '                            ^^^^')],
    ]);
  });

  test('names in a context with none of that attribute', () => {
    const bare = makeContext([{ key: 'a' }]);
    expect(errors('kind:x', bare)).toEqual([["unknown kind 'x'; there are no kinds", at('kind:x', '     ^')]]);
    expect(errors('tag:x', bare)).toEqual([["unknown tag 'x'; there are no tags", at('tag:x', '    ^')]]);
    expect(errors('job:x', bare)).toEqual([["unknown job 'x'; there are no jobs", at('job:x', '    ^')]]);
  });
});

describe('jobs with errors', () => {
  test('a job that selects itself', () => {
    expect(errors('job:self')).toEqual([["job 'self' selects itself: self -> self", at('job:self or raw/a', '^^^^^^^^')]]);
    expect(errors('raw/b or job:loop_a')).toEqual([
      ["job 'loop_a' selects itself: loop_a -> loop_b -> loop_a", at('raw/a or job:loop_a', '         ^^^^^^^^^^')],
    ]);
  });

  test("a job whose selection is malformed or names nothing, with the caret in the job's expression", () => {
    expect(errors('job:broken')).toEqual([["job 'broken' has an invalid selection: missing operand after 'and'", at('raw/a and', '         ^')]]);
    expect(errors('job:typo or raw/a')).toEqual([["in job 'typo': unknown asset key 'raw/aa' (did you mean 'raw/a'?)", at('raw/aa', '^^^^^^')]]);
    // Reported once however often the job is named.
    expect(errors('job:typo or job:typo')).toHaveLength(1);
  });
});

describe('selections that select nothing', () => {
  test.each<[string, string]>([
    ['raw/a and raw/b', '^^^^^^^^^^^^^^^'],
    ['not *', '^^^^^'],
    ['status:failure and raw/a', '^^^^^^^^^^^^^^^^^^^^^^^^'],
    ['  group:raw and   group:misc ', '  ^^^^^^^^^^^^^^^^^^^^^^^^^^'],
  ])('%j', (text, caret) => {
    expect(errors(text)).toEqual([[`selection '${text.trim().replace(/\s+/g, ' ')}' selects no assets`, at(text, caret)]]);
  });

  test('without the text, the message stands alone', () => {
    const node = parseSelection('raw/a and raw/b');
    expect(node.ok).toBe(true);
    if (!node.ok) return;
    expect(evaluateSelection(node.value, ctx)).toEqual({ ok: false, diagnostics: [{ message: 'the selection selects no assets', span: { start: 0, end: 15 } }] });
  });

  test('an empty project selects nothing', () => {
    expect(errors('*', makeContext([]))).toEqual([["no asset key matches '*'", at('*', '^')]]);
  });
});

describe('status: without run history', () => {
  test('is an error naming the attribute', () => {
    expect(errors('raw/a or status:failure', noHistory)).toEqual([
      ["'status:' needs the last run of each asset, which is not available here", at('raw/a or status:failure', '         ^^^^^^^^^^^^^^')],
    ]);
  });
});

describe('select', () => {
  test('returns parse errors as they are', () => {
    expect(errors('raw/a and')).toEqual([["missing operand after 'and'", at('raw/a and', '         ^')]]);
  });

  test('keeps keys the graph does not know, last and sorted', () => {
    const c = makeContext(ASSETS);
    const assets = new Map(c.assets);
    assets.set('zz/late', { key: 'zz/late', group: 'raw', tags: {}, kinds: [], owners: [], handler: 'command' });
    assets.set('aa/early', { key: 'aa/early', group: 'raw', tags: {}, kinds: [], owners: [], handler: 'command' });
    expect(sel('group:raw', { ...c, assets })).toEqual(['raw/a', 'raw/b', 'aa/early', 'zz/late']);
  });

  test('a cyclic graph is a diagnostic, not a throw', () => {
    const c = makeContext([{ key: 'a', deps: ['b'] }, { key: 'b', deps: ['a'] }]);
    expect(errors('a or b', c)).toEqual([['cannot order the selection: the asset graph has a cycle', undefined]]);
    // Evaluating alone still works (the loader reports the cycle itself).
    const node = parseSelection('+a');
    expect(node.ok && [...(evaluateSelection(node.value, c) as { value: Set<string> }).value].sort()).toEqual(['a', 'b']);
  });
});

describe('checkSelection (definitions at load time)', () => {
  test('reports syntax and unknown names, not emptiness, and accepts status: without history', () => {
    expect(checkSelection('raw/a and raw/b', noHistory)).toEqual([]);
    expect(checkSelection('status:failure', noHistory)).toEqual([]);
    expect(checkSelection('job:failed_only+', noHistory)).toEqual([]);
    expect(checkSelection('raw/a or', noHistory).map((d) => d.message)).toEqual(["missing operand after 'or'"]);
    expect(checkSelection('group:stagin or job:self', noHistory).map((d) => [d.message, d.span, d.expression])).toEqual([
      ["unknown group 'stagin' (did you mean 'staging'?)", { start: 6, end: 12 }, 'group:stagin or job:self'],
      ["job 'self' selects itself: self -> self", { start: 0, end: 8 }, 'job:self or raw/a'],
    ]);
  });
});

/**
 * The fast YAML path against the `yaml` library: wherever the fast path gives a value, it
 * must be the library's `toJS` value, and the positions it records must be the library's.
 * Checked on every YAML file of the repository (pipelines, examples, both fixture corpora),
 * on hand-written corner cases, and on random documents the library itself writes.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parseDocument, stringify } from 'yaml';
import { fastParseYaml } from '../../src/definitions/fast-yaml.js';
import { SourceFile } from '../../src/definitions/source-file.js';
import { PROJECT_ROOT } from '../support/bundle.js';

function lib(text: string): { ok: boolean; value?: unknown } {
  const doc = parseDocument(text, { merge: true, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0 || doc.warnings.length > 0) return { ok: false };
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 10_000 }) };
  } catch {
    return { ok: false };
  }
}

/** Fast and library agree; returns whether the fast path took the text. */
function agree(text: string): boolean {
  const fast = fastParseYaml(text);
  if (!fast) return false;
  const l = lib(text);
  expect(l.ok, `the fast path accepted what the library rejects:\n${text}`).toBe(true);
  expect(fast.value, text).toEqual(l.value ?? null);
  // Positions: the fast path's starts against the library's, for every recorded node.
  const viaFast = new SourceFile('f.yaml', text);
  viaFast.parse();
  const viaLib = new SourceFile('f.yaml', text);
  for (const [k, s] of fast.starts) {
    const p = k.split('\u0000').map((x) => (/^\d+$/.test(x) && Array.isArray(pick(fast.value, k.split('\u0000').slice(0, -1))) ? Number(x) : x));
    expect(viaFast.pos(p), `${k} in\n${text}`).toEqual(viaLib.pos(p));
    if (s.key !== undefined) expect(viaFast.pos(p, true), `${k} (key)`).toEqual(viaLib.pos(p, true));
  }
  return true;
}

function pick(v: unknown, segs: string[]): unknown {
  let x = v;
  for (const s of segs) x = (x as Record<string, unknown>)?.[s];
  return x;
}

function yamlFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? yamlFiles(p) : /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

describe('fast YAML path', () => {
  it('agrees with the yaml library on every YAML file of the repository, and takes most valid ones', () => {
    const files = ['pipelines', 'examples', 'test/fixtures'].flatMap((d) => yamlFiles(path.join(PROJECT_ROOT, d)));
    expect(files.length).toBeGreaterThan(60);
    let taken = 0;
    for (const f of files) if (agree(fs.readFileSync(f, 'utf8'))) taken++;
    expect(taken).toBeGreaterThan(files.length / 2);
  });

  it('agrees on corner cases, and leaves what it does not know to the library', () => {
    const taken = [
      'a: 1\nb: -2\nc: 0x1F\nd: 0o17\ne: 1.5\nf: .inf\ng: -.Inf\nh: .nan\ni: 1e3\nj: ~\nk: null\nl: True\nm: FALSE\nn: yes\no: 012\np: +7\nq: 1.\n',
      'a: "x\\ty\\u00e9\\x41\\"q\\\\"\nb: \'it\'\'s\'\nc: plain # comment\nd: a#b\ne: "#not"\n',
      'list:\n- a\n- b: 1\n  c: [x, "y", {z: 2}]\n-\n  - nested\n- [ ]\n- {}\n',
      'assets:\n  - key: demo/a\n    deps: [x/y, z]\n    config: {run: [sh, -c, "echo a"], env: {A: "${env:A}"}}\n    tags: {team: data, url: http://x/y?a=b}\n',
      '# only a comment\n\nroot:\n  child:\n    deep: value   \n  other: -c\n',
      'k: [a b, c:d, -x, 1, true, null, "s"]\n',
      '"quoted key": 1\n\'single\': 2\n',
      'a:\nb:   # c\nl:\n  -\n  - x\ns:\n  k:\n',
      '',
    ];
    for (const t of taken) expect(agree(t), t).toBe(true);
    const left = [
      'a: &x 1\nb: *x\n', 'a: !!str 1\n', 'a: |\n  text\n', 'a: >\n  text\n', 'a: multi\n  line\n', 'a: [1,\n  2]\n', 'a: 1\na: 2\n',
      '<<: {a: 1}\n', '? complex\n: key\n', 'a:\tb\n', 'a: 1\r\n', '---\na: 1\n', 'a: "open\n', 'a: b: c\n', 'key:value\n', '- - a\n', '1: x\n', 'true: x\n',
      'a: [b: c]\n', 'a: @x\n', '"a":1\n', 'a:\n  - x\n   - y\n',
    ];
    for (const t of left) expect(fastParseYaml(t), t).toBeUndefined();
  });

  it('agrees on random documents the yaml library writes', () => {
    const word = fc.stringMatching(/^[a-z][a-z0-9_ ./-]{0,10}$/);
    const key = fc.oneof(word, fc.string({ minLength: 1, maxLength: 8 })).filter((s) => s !== '__proto__');
    const scalar = fc.oneof(word, word, fc.string({ maxLength: 12 }), fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(key, tie('node'), { maxKeys: 4 })),
    })).node;
    let taken = 0;
    fc.assert(
      fc.property(fc.dictionary(key, value, { minKeys: 1, maxKeys: 5 }), fc.integer({ min: 0, max: 3 }), (doc, flowLevel) => {
        const text = stringify(doc, { flowCollectionPadding: flowLevel % 2 === 0, collectionStyle: flowLevel === 3 ? 'flow' : 'any', lineWidth: 0 });
        if (agree(text)) taken++;
      }),
      { numRuns: 400 },
    );
    expect(taken).toBeGreaterThan(20);
  });
});

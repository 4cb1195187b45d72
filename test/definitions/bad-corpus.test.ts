/**
 * The corpus of broken pipeline directories under test/fixtures/bad/. Each case is a
 * directory holding pipeline files (any depth) and `expected.txt`: the complete output of
 * the load, one `path:line:col: message` a line (plus any detail lines such as a caret
 * under a selection), so that every error of a load is checked, not only the first.
 * An optional `case.json` says `{"dir": "..."}` when the directory to load is not the
 * case directory itself (a missing directory).
 *
 * Paths in messages are relative to the working directory: the test runs from the corpus
 * root, so they read `<case>/<file>`. `UPDATE_FIXTURES=1` rewrites expected.txt from the
 * actual output (review the diff before keeping it).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDefinitionsSync } from '../../src/definitions/load.js';
import { formatDiagnostic } from '../../src/diagnostics/diagnostic.js';
import { PROJECT_ROOT } from '../support/bundle.js';

const BAD = path.join(PROJECT_ROOT, 'test/fixtures/bad');
const CASES = readdirSync(BAD).filter((n) => statSync(path.join(BAD, n)).isDirectory()).sort();

interface CaseSpec {
  dir?: string;
}

function spec(name: string): CaseSpec {
  const p = path.join(BAD, name, 'case.json');
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as CaseSpec) : {};
}

/** The load's complete output, as the CLI prints it. */
function output(dir: string, cacheDir: string | false): string {
  const r = loadDefinitionsSync(dir, { cacheDir });
  if (r.ok) return '(loaded without errors)';
  return r.diagnostics.map(formatDiagnostic).join('\n');
}

const startDir = process.cwd();
let cacheRoot: string;
beforeAll(() => {
  process.chdir(BAD);
  cacheRoot = mkdtempSync(path.join(os.tmpdir(), 'runner-bad-corpus-'));
});
afterAll(() => {
  process.chdir(startDir);
  rmSync(cacheRoot, { recursive: true, force: true });
});

test('the corpus has at least 45 cases, each with expected output', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(45);
  for (const name of CASES) expect(existsSync(path.join(BAD, name, 'expected.txt')), name).toBe(true);
});

describe.each(CASES)('%s', (name) => {
  const expectedFile = path.join(BAD, name, 'expected.txt');
  const dir = () => spec(name).dir ?? name;

  test('reports exactly the expected diagnostics', () => {
    const actual = output(dir(), false);
    if (process.env.UPDATE_FIXTURES === '1') writeFileSync(expectedFile, actual + '\n');
    const expected = readFileSync(expectedFile, 'utf8').trimEnd();
    expect(actual).toBe(expected);
    // Every line of a diagnostic with a place starts with `path:line:col: `.
    for (const line of expected.split('\n').filter((l) => !l.startsWith('  '))) {
      if (/\.yaml:\d/.test(line)) expect(line).toMatch(/^[^:\s]+\.yaml:\d+:\d+: \S/);
    }
  });

  test('reports the same through the parse cache, cold and warm', () => {
    const cacheDir = path.join(cacheRoot, name);
    const expected = readFileSync(expectedFile, 'utf8').trimEnd();
    expect(output(dir(), cacheDir)).toBe(expected);
    expect(output(dir(), cacheDir)).toBe(expected);
  });
});

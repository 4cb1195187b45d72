/**
 * Installing the OpenMetadata CLI with a fake `python3` first on PATH that records every
 * call: what pip is asked, where its cache goes, that a second install calls nothing, that
 * a venv with more plugins serves a smaller set, how wildcards resolve with and without an
 * index, and what a failed install says and leaves.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ensureOpenMetadata } from '../../src/tools/openmetadata.js';
import { listTools } from '../../src/tools/manifest.js';
import { errorLines, maskUrlCredentials } from '../../src/tools/exec.js';
import { parseVersionSpec, type VersionSpec } from '../../src/tools/versions.js';
import { FAKE_PYTHON_DIR, FAKE_UV_DIR, fakePythonCalls } from '../support/fake-python/index.js';
import { readFileSync } from 'node:fs';

const saved = { ...process.env };
let root: string;
let home: string;
let log: string;
let lines: string[];

const spec = (t: string): VersionSpec => {
  const r = parseVersionSpec(t);
  if (!r.ok) throw new Error(r.message);
  return r.value;
};
const ensure = (version: string, plugins: string[]) => ensureOpenMetadata({ home, spec: spec(version), plugins, log: (l) => lines.push(l) });
const installs = () => fakePythonCalls(log).filter((c) => c.argv[1] === 'pip' && c.argv[2] === 'install');
/** The requirement of a pip install call. */
const requirementOf = (argv: string[]) => argv.find((a) => a.includes('=='));

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'runner-tools-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeEach((t) => {
  home = path.join(root, t.task.name.replace(/\W+/g, '-').slice(0, 60));
  log = path.join(home, 'calls.jsonl');
  lines = [];
  process.env.PATH = `${FAKE_PYTHON_DIR}${path.delimiter}${saved.PATH}`;
  process.env.FAKE_PY_LOG = log;
  delete process.env.RUNNER_TOOLS_CACHE;
  delete process.env.RUNNER_TOOLS_INSTALLER;
});
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

describe('installing the OpenMetadata CLI', () => {
  it('creates a venv with python3 -m venv and pip-installs the package with its plugins, cache under tools/cache', async () => {
    const r = await ensure('1.7.7.4', ['trino', 'dbt', 'trino']);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const dir = path.join(home, 'tools', 'openmetadata-1.7.7.4-dbt+trino');
    expect(r.value).toMatchObject({ installed: true, dropped: [], record: { name: 'openmetadata', package: 'openmetadata-ingestion', version: '1.7.7.4', plugins: ['dbt', 'trino'], dir, metadata: path.join(dir, 'bin', 'metadata'), installer: 'pip' } });
    const calls = fakePythonCalls(log);
    expect(calls.map((c) => [c.venv, c.argv])).toEqual([
      [null, ['-m', 'venv', dir]],
      // 1.7 forgot to declare cachetools; dbt-core's experimental parser builds only with GitHub access.
      [dir, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', 'openmetadata-ingestion[dbt,trino]==1.7.7.4', 'cachetools', '--only-binary', 'dbt-core-experimental-parser']],
    ]);
    expect(calls.every((c) => c.PIP_CACHE_DIR === path.join(home, 'tools', 'cache', 'pip'))).toBe(true);
    // Progress: the runner's own lines and pip's, in order.
    expect(lines[0]).toBe(`openmetadata: installing openmetadata-ingestion[dbt,trino]==1.7.7.4 into ${dir} (pip)`);
    expect(lines).toContain('Collecting openmetadata-ingestion[dbt,trino]==1.7.7.4');
    expect(lines).toContain('openmetadata: checking `metadata --version`');
    expect(lines.at(-1)).toBe(`openmetadata: installed openmetadata-ingestion[dbt,trino]==1.7.7.4: ${dir}/bin/metadata`);
    // The executable is the installed CLI.
    const v = await execa(r.value.record.metadata, ['--version']);
    expect(v.stdout).toMatch(/^metadata 1\.7\.7\.4 /);
  });

  it('reinstalls nothing that is there: the second install calls no python, and more plugins serve fewer', async () => {
    expect((await ensure('1.7.7.4', ['dbt', 'trino'])).ok).toBe(true);
    const before = fakePythonCalls(log).length;
    expect(before).toBe(2);
    const again = await ensure('1.7.7.4', ['trino', 'dbt']);
    const fewer = await ensure('1.7.7.4', ['trino']);
    const none = await ensure('1.7.7.4', []);
    for (const r of [again, fewer, none]) expect(r).toMatchObject({ ok: true, value: { installed: false, record: { plugins: ['dbt', 'trino'] } } });
    expect(fakePythonCalls(log)).toHaveLength(before);
    // A plugin it lacks is a new venv.
    const more = await ensure('1.7.7.4', ['trino', 'superset']);
    expect(more).toMatchObject({ ok: true, value: { installed: true, record: { plugins: ['superset', 'trino'] } } });
    expect(installs()).toHaveLength(2);
    expect(listTools(home).map((t) => t.plugins.join('+'))).toEqual(['dbt+trino', 'superset+trino']);
  });

  it('RUNNER_TOOLS_CACHE moves the download cache', async () => {
    process.env.RUNNER_TOOLS_CACHE = path.join(root, 'shared-cache');
    expect((await ensure('2.0.7.0', ['trino'])).ok).toBe(true);
    expect(installs()[0]!.PIP_CACHE_DIR).toBe(path.join(root, 'shared-cache', 'pip'));
  });

  it('leaves out a plugin the release does not provide, and says so', async () => {
    const r = await ensure('2.0.7.0', ['iceberg', 'trino']);
    expect(r).toMatchObject({ ok: true, value: { dropped: ['iceberg'], record: { plugins: ['trino'] } } });
    expect(requirementOf(installs()[0]!.argv)).toBe('openmetadata-ingestion[trino]==2.0.7.0');
  });

  it('a wildcard installs the newest matching release the index lists', async () => {
    process.env.FAKE_PIP_VERSIONS = '2.0.7.0,1.10.4.2,1.7.7.10,1.7.7.4,1.7.7.3';
    const r = await ensure('1.7.*', ['trino']);
    expect(r).toMatchObject({ ok: true, value: { installed: true, record: { version: '1.7.7.10' } } });
    expect(fakePythonCalls(log)[0]!.argv).toEqual(['-m', 'pip', 'index', 'versions', 'openmetadata-ingestion']);
    expect(requirementOf(installs()[0]!.argv)).toBe('openmetadata-ingestion[trino]==1.7.7.10');
    // A newer release on the index is installed next time; without the index the installed one serves.
    process.env.FAKE_PIP_VERSIONS = '1.7.7.11,1.7.7.10';
    expect(await ensure('1.7.*', ['trino'])).toMatchObject({ ok: true, value: { installed: true, record: { version: '1.7.7.11' } } });
    process.env.FAKE_PIP_OFFLINE = '1';
    const offline = await ensure('1.7.*', ['trino']);
    expect(offline).toMatchObject({ ok: true, value: { installed: false, record: { version: '1.7.7.11' } } });
    expect(lines).toContain('openmetadata: the package index could not be asked; using the installed 1.7.7.11');
  });

  it('a wildcard with no index and nothing installed fails, saying how to fix it', async () => {
    process.env.FAKE_PIP_OFFLINE = '1';
    const r = await ensure('1.7.*', ['trino']);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toMatch(/^openmetadata: could not list the releases of openmetadata-ingestion to resolve 1\.7\.\* \(`python3 -m pip index versions`: exit code 1: .*\); pin an exact version or install it ahead with `runner tools install openmetadata`$/);
    process.env.FAKE_PIP_OFFLINE = '0';
    process.env.FAKE_PIP_VERSIONS = '2.0.7.0,1.6.0.0';
    expect(await ensure('1.7.*', [])).toEqual({ ok: false, message: 'openmetadata: no release of openmetadata-ingestion matches 1.7.* (newest listed: 2.0.7.0)' });
  });

  it('a failed install says which step failed with pip\'s error lines, and leaves no venv behind', async () => {
    process.env.FAKE_PIP_FAIL = '1';
    const r = await ensure('1.7.7.9', ['trino']);
    expect(r).toEqual({
      ok: false,
      message:
        'openmetadata: installing openmetadata-ingestion[trino]==1.7.7.9 failed (exit code 1):\n' +
        'ERROR: Could not find a version that satisfies the requirement openmetadata-ingestion[trino]==1.7.7.9 (from versions: 1.6.0.0, 1.7.7.4)\n' +
        'ERROR: No matching distribution found for openmetadata-ingestion[trino]==1.7.7.9',
    });
    expect(readdirSync(path.join(home, 'tools')).filter((n) => n.startsWith('openmetadata-'))).toEqual([]);
    expect(existsSync(path.join(home, 'tools', 'install.lock'))).toBe(false);
    // Nothing half-done is taken for an install: the next attempt starts afresh.
    delete process.env.FAKE_PIP_FAIL;
    expect(await ensure('1.7.7.9', ['trino'])).toMatchObject({ ok: true, value: { installed: true } });
  });

  it('an install whose CLI cannot start fails with the error, and leaves no venv behind', async () => {
    process.env.FAKE_PIP_BROKEN = '1';
    const r = await ensure('1.7.7.4', []);
    expect(r).toEqual({
      ok: false,
      message:
        'openmetadata: openmetadata-ingestion==1.7.7.4 installed, but `metadata --version` failed (exit code 1):\n' +
        'Traceback (most recent call last):\n' +
        `  File "${path.join(home, 'tools', 'openmetadata-1.7.7.4')}/bin/metadata", line 5, in <module>\n` +
        "ModuleNotFoundError: No module named 'cachetools'",
    });
    expect(listTools(home)).toEqual([]);
    expect(existsSync(path.join(home, 'tools', 'openmetadata-1.7.7.4'))).toBe(false);
  });

  it('a venv without its manifest (an interrupted install) is not used', async () => {
    expect((await ensure('1.7.7.4', [])).ok).toBe(true);
    rmSync(path.join(home, 'tools', 'openmetadata-1.7.7.4', 'runner-tool.json'));
    expect(listTools(home)).toEqual([]);
    expect(await ensure('1.7.7.4', [])).toMatchObject({ ok: true, value: { installed: true } });
    expect(installs()).toHaveLength(2);
  });

  it('uses uv when it is on PATH, with its cache under tools/cache; RUNNER_TOOLS_INSTALLER=pip keeps pip', async () => {
    const uvLog = path.join(home, 'uv.log');
    process.env.PATH = `${FAKE_UV_DIR}${path.delimiter}${process.env.PATH}`;
    process.env.FAKE_UV_LOG = uvLog;
    const r = await ensure('1.7.7.4', ['trino']);
    expect(r).toMatchObject({ ok: true, value: { installed: true, record: { installer: 'uv' } } });
    const dir = path.join(home, 'tools', 'openmetadata-1.7.7.4-trino');
    expect(readFileSync(uvLog, 'utf8').trim().split('\n')).toEqual([
      `venv --python python3 ${dir}`,
      `pip install --python ${dir}/bin/python openmetadata-ingestion[trino]==1.7.7.4 cachetools --only-binary dbt-core-experimental-parser`,
    ]);
    expect(installs()[0]!.UV_CACHE_DIR).toBe(path.join(home, 'tools', 'cache', 'uv'));
    process.env.RUNNER_TOOLS_INSTALLER = 'pip';
    expect(await ensure('1.7.7.4', ['dbt'])).toMatchObject({ ok: true, value: { record: { installer: 'pip' } } });
    expect(readFileSync(uvLog, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('a missing python3 is a clear failure', async () => {
    process.env.RUNNER_TOOLS_PYTHON = path.join(root, 'no-such-python3');
    const r = await ensure('1.7.7.4', []);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/^openmetadata: creating the virtual environment failed \(could not run `.*no-such-python3`: .*ENOENT/);
  });
});

describe('installer output', () => {
  it('masks credentials in index URLs', () => {
    expect(maskUrlCredentials('Looking in indexes: https://deploy:s3cr3t-token@pypi.example.org/simple')).toBe('Looking in indexes: https://***@pypi.example.org/simple');
    expect(maskUrlCredentials('see https://pypi.org/simple')).toBe('see https://pypi.org/simple');
  });

  it('keeps the error lines of a failure, else its last lines', () => {
    expect(errorLines(['Collecting x', 'ERROR: one', 'ERROR: two'])).toEqual(['ERROR: one', 'ERROR: two']);
    expect(errorLines(['a', 'b', 'c'], 2)).toEqual(['b', 'c']);
  });
});

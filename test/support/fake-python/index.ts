/**
 * The fake `python3` (see fake-python.mjs): put FAKE_PYTHON_DIR first on PATH; its calls
 * are recorded in the file FAKE_PY_LOG names, one JSON object a line.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory holding the fake `python3`. */
export const FAKE_PYTHON_DIR = path.dirname(fileURLToPath(import.meta.url));

/** The directory holding a fake `uv` that drives the fake python3 (its calls in FAKE_UV_LOG, one argv a line). */
export const FAKE_UV_DIR = path.join(path.dirname(FAKE_PYTHON_DIR), 'fake-uv');

/** One recorded call. */
export interface FakePythonCall {
  pid: number;
  /** The venv when called as `<venv>/bin/python`, else null. */
  venv: string | null;
  argv: string[];
  PIP_CACHE_DIR: string | null;
  UV_CACHE_DIR: string | null;
  /** The names of the variables it was started with (what an installer inherits). */
  envNames: string[];
}

/** The calls recorded in `log` (none when it does not exist). */
export function fakePythonCalls(log: string): FakePythonCall[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as FakePythonCall);
}

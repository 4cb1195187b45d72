/** The checked-in code generated from schemas/ (types, validators) is not stale. */
import { expect, test } from 'vitest';
import { execa } from 'execa';
import { PROJECT_ROOT } from '../support/bundle.js';

test('node scripts/gen.mjs --check exits 0', async () => {
  const r = await execa(process.execPath, ['scripts/gen.mjs', '--check'], { cwd: PROJECT_ROOT, reject: false });
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
}, 60_000);

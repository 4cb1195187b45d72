/**
 * The listr2 view on a real terminal: the quickstart runs in a tmux pane (a private tmux
 * server), and the pane is read with capture-pane while it runs and after it ended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { cliEntry } from '../execution/cli-entry.js';
import { tempDir, waitFor } from '../execution/helpers.js';
import { PROJECT_ROOT } from '../support/bundle.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const socket = `runner-test-${randomUUID().slice(0, 8)}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const pane = () => tmux('capture-pane', '-p', '-t', 'run');

const KEYS = [
  'quickstart/raw/orders',
  'quickstart/raw/customers',
  'quickstart/raw/exchange_rates',
  'quickstart/staging/orders',
  'quickstart/staging/customers',
  'quickstart/marts/revenue',
  'quickstart/reports/daily',
  'quickstart/checks/customer_freshness',
];

describe.skipIf(!hasTmux && !process.env.CI)('the listr2 view in a terminal', () => {
  let entry: string;
  beforeAll(async () => {
    entry = await cliEntry();
  }, 60_000);
  afterAll(() => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
  });

  it('shows a task per step while running, then every step collapsed to one line and the summary', async () => {
    const home = tempDir('runner-tty-');
    const quickstart = path.join(PROJECT_ROOT, 'examples', 'quickstart');
    const cmd = `env RUNNER_HOME=${home} QUICKSTART_FAIL=1 NO_COLOR=1 ${process.execPath} ${entry} materialize -p ${quickstart} --select '*'; echo EXIT=$?; sleep 120`;
    tmux('new-session', '-d', '-s', 'run', '-x', '150', '-y', '50', cmd);

    // While it runs: a task line for a running step, its last line of output, the bottom bar.
    let during = '';
    await waitFor(() => /\d+ running, \d+ pending, \d+ of 8 done/.test((during = pane())), 20_000, 'the live view');
    expect(during).toMatch(/quickstart\/raw\/(orders|customers|exchange_rates)/);

    let after = '';
    await waitFor(() => /EXIT=\d+/.test((after = pane())), 30_000, 'the run to end');
    expect(after).toContain('EXIT=1');
    const all = after.split('\n');
    // The task list is what comes before the summary: one line per step, with its outcome.
    const lines = all.slice(0, all.findIndex((l) => l.startsWith('Run failure')));
    for (const key of KEYS) {
      const taskLines = lines.filter((l) => new RegExp(`^[✔✖↓] ${key.replaceAll('/', '\\/')}( |$)`).test(l));
      expect(taskLines, key).toHaveLength(1);
    }
    expect(lines.find((l) => l.startsWith('✖ quickstart/marts/revenue'))).toContain('exit code 3');
    expect(lines.find((l) => l.startsWith('↓ quickstart/reports/daily'))).toContain('upstream quickstart/marts/revenue failed');
    // The live parts are gone: no spinner, no bottom bar.
    expect(after).not.toMatch(/\d+ running, \d+ pending/);
    // The summary.
    expect(after).toContain('Run failure in');
    expect(after).toContain('6 success, 1 failure, 1 skipped');
    expect(after).toMatch(/Run id: [0-9a-f-]{36}/);
    expect(after).toContain('Logs:');
  });
});

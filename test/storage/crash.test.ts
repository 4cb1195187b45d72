import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../support/bundle.js';
import { Store } from '../../src/storage/store.js';
import { RUNNER_EXITED } from '../../src/storage/reaper.js';
import { tempDir } from './helpers.js';

const STEPS = 50;
let writer: string;
beforeAll(async () => {
  writer = await bundle('test/storage/fixtures/heavy-writer.ts');
});


describe('the store under SIGKILL', () => {
  it('stays intact and keeps every run that finished before a SIGKILL during heavy writes', async () => {
    const home = tempDir();
    const child = spawn(process.execPath, [writer, home, String(STEPS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const done: string[] = [];
    let buffered = '';
    const exited = once(child, 'close'); // after stdout is drained: every `done` line read
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const l of lines) if (l.startsWith('done ')) done.push(l.slice(5));
        if (done.length >= 40 && child.signalCode === null && child.exitCode === null) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    expect(signal).toBe('SIGKILL');
    expect(done.length).toBeGreaterThanOrEqual(40);

    const db = new Database(path.join(home, 'runner.db'));
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const events = db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number };
      expect(events.n).toBeGreaterThan(40 * (2 + 2 * STEPS) - 1);
    } finally {
      db.close();
    }

    const store = Store.open(home);
    const intact = (id: string): void => {
      const run = store.getRun(id)!;
      expect(run.status).toBe('success');
      expect(run.steps).toHaveLength(STEPS);
      expect(run.steps.every((s) => s.status === 'success' && s.exit_code === 0 && s.attempts === 1)).toBe(true);
      expect(run.steps.map((s) => s.metadata)).toEqual(Array.from({ length: STEPS }, (_, i) => ({ step: i })));
      expect(store.listEvents(id)).toHaveLength(2 + 2 * STEPS);
      const last = run.steps[STEPS - 1]!;
      expect(fs.readFileSync(last.log, 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
    };
    try {
      for (const id of done) intact(id);
      // The run the kill interrupted, if it had started, was reaped; one that finished just
      // before the kill (its `done` unprinted) is complete.
      const unfinished = store.listRuns({}).filter((r) => !done.includes(r.id));
      expect(unfinished.length).toBeLessThanOrEqual(1);
      for (const r of unfinished) {
        if (r.status === 'success') intact(r.id);
        else expect(r).toMatchObject({ status: 'failure', error: RUNNER_EXITED });
      }
      expect(store.listRuns({ status: 'started' })).toEqual([]);
    } finally {
      store.close();
    }
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliEntry, startCli } from '../execution/cli-entry.js';
import { Store } from '../../src/storage/store.js';
import { RUNNER_EXITED } from '../../src/storage/reaper.js';
import { tempDir } from './helpers.js';

const STEPS = 80;

/** A project of STEPS quick `command` assets, each depending on the one two before it. */
function project(): { dir: string; home: string } {
  const root = tempDir('runner-durable-');
  const dir = path.join(root, 'pipelines');
  fs.mkdirSync(dir);
  const assets = Array.from({ length: STEPS }, (_, i) => {
    const deps = i >= 2 ? `\n    deps: [s/n${i - 2}]` : '';
    return `  - key: s/n${i}\n    handler: command\n    config: {run: ["true"]}${deps}`;
  });
  fs.writeFileSync(path.join(dir, 'p.yaml'), `assets:\n${assets.join('\n')}\n`);
  return { dir, home: path.join(root, 'home') };
}

beforeAll(async () => {
  await cliEntry();
}, 60_000);

describe('step ends survive a SIGKILL of the runner', () => {
  // Three kills at random moments: after 1..STEPS/2 steps were shown finished.
  for (let round = 0; round < 3; round++) {
    it(`every step the output showed as finished is recorded as finished (round ${round + 1})`, async () => {
      const { dir, home } = project();
      const killAfter = 1 + Math.floor(Math.random() * (STEPS / 2));
      const run = await startCli(['materialize', '-p', dir, '--select', '*', '--concurrency', '4', '--output', 'plain'], { env: { RUNNER_HOME: home } });
      const shown = new Set<string>();
      let buffered = '';
      await new Promise<void>((resolve) => {
        run.child.stdout!.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('utf8');
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          for (const l of lines) {
            const m = /^\S+ (\S+) ✔ success/.exec(l);
            if (m) shown.add(m[1]!);
          }
          if (shown.size >= killAfter && run.child.exitCode === null && run.child.signalCode === null) {
            run.child.kill('SIGKILL');
            resolve();
          }
        });
        void run.exit.then(() => resolve());
      });
      const { signal } = await run.exit;
      expect(signal).toBe('SIGKILL');
      expect(shown.size).toBeGreaterThanOrEqual(killAfter);

      const store = Store.open(home); // reaps the killed run
      try {
        const [r] = store.listRuns({});
        expect(r).toMatchObject({ status: 'failure', error: RUNNER_EXITED });
        const byKey = new Map(r!.steps.map((s) => [s.key, s.status]));
        for (const key of shown) expect(byKey.get(key), key).toBe('success');
        expect(r!.steps.filter((s) => s.status === 'running' || s.status === 'pending')).toEqual([]);
      } finally {
        store.close();
      }
    }, 120_000);
  }
});

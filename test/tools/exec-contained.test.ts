import { describe, expect, it } from 'vitest';
import { runCommand } from '../../src/tools/exec.js';
import { killAllNow, liveGroups, pidAlive } from '../../src/execution/process-tree.js';

describe('an installer command in the live process-group registry', () => {
  it('is listed while it runs, and a second Ctrl-C (killAllNow) ends its whole group, children too', async () => {
    const lines: string[] = [];
    // A fake slow install: a shell that starts a child and waits.
    const p = runCommand(['sh', '-c', 'sleep 60 & echo "child $!"; wait'], { log: (l) => lines.push(l) });
    const deadline = Date.now() + 10_000;
    while (!lines.some((l) => l.startsWith('child ')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const child = Number(lines.find((l) => l.startsWith('child '))!.slice(6));
    expect(liveGroups().length).toBeGreaterThan(0);
    killAllNow();
    const r = await p;
    expect(r).toMatchObject({ ok: false, exitCode: null, reason: 'killed by SIGKILL' });
    const until = Date.now() + 5_000;
    while (pidAlive(child) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(pidAlive(child)).toBe(false);
    expect(liveGroups()).toEqual([]);
  });
});

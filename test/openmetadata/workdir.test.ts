import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cleanupStaleConfigs, createWorkdir, removeWorkdir } from '../../src/handlers/openmetadata/workdir.js';

describe('the private workflow directory', () => {
  it('is a fresh 0700 directory named after this process, holding a 0600 workflow.yaml', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'om-wd-'));
    const dir = await createWorkdir('source: {}\n', base);
    expect(path.basename(dir)).toMatch(new RegExp(`^runner-om-${process.pid}-[A-Za-z0-9]+$`));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const file = path.join(dir, 'workflow.yaml');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe('source: {}\n');
    const other = await createWorkdir('x', base);
    expect(other).not.toBe(dir);
    await removeWorkdir(dir);
    expect(existsSync(dir)).toBe(false);
    rmSync(base, { recursive: true, force: true });
  });

  it('cleans up only the directories of runners that are gone', () => {
    const base = mkdtempSync(path.join(tmpdir(), 'om-stale-'));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(dead.stdout.toString());
    const alive = spawn(process.execPath, ['-e', 'setTimeout(()=>{}, 60000)'], { stdio: 'ignore' });
    try {
      const mk = (name: string) => {
        const d = path.join(base, name);
        mkdirSync(d, { mode: 0o700 });
        writeFileSync(path.join(d, 'workflow.yaml'), 'x', { mode: 0o600 });
        return d;
      };
      const gone = mk(`runner-om-${deadPid}-AbC123`);
      const mine = mk(`runner-om-${process.pid}-xyz`);
      const running = mk(`runner-om-${alive.pid}-q1`);
      const unrelated = mk('runner-om-notapid-1');
      const foreign = mk(`something-${deadPid}-else`);
      expect(cleanupStaleConfigs(base)).toEqual([gone]);
      expect(existsSync(gone)).toBe(false);
      for (const d of [mine, running, unrelated, foreign]) expect(existsSync(d)).toBe(true);
      expect(cleanupStaleConfigs(base)).toEqual([]);
    } finally {
      alive.kill('SIGKILL');
      rmSync(base, { recursive: true, force: true });
    }
  });
});

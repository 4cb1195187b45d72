/**
 * The last-resort guard of `runner serve`: an error that escapes every request handler
 * (thrown in a timer, a rejection nobody awaited) is logged with the request it belongs
 * to, that request's connection is closed, and the process goes on answering. Without the
 * guard the same request ends the process (which is what it protects against).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { bundle } from '../support/bundle.js';
import { waitFor } from './proc.js';

let entry: string;
const children: ChildProcess[] = [];
beforeAll(async () => {
  entry = await bundle('test/serve/last-resort-entry.ts');
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

async function start(env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const port = await waitFor('the server to listen', () => /port (\d+)/.exec(out)?.[1]);
  return { child, url: `http://127.0.0.1:${port}`, out: () => out, exited };
}

describe('last-resort guard', () => {
  it('logs an error that escaped a request, closes that request, and keeps serving', async () => {
    const s = await start();
    await expect(fetch(`${s.url}/boom-timer`)).rejects.toThrow(); // its connection was closed
    expect((await fetch(`${s.url}/boom-rejection`)).status).toBe(200);
    await waitFor('both errors logged', () => (s.out().match(/a request handler failed/g) ?? []).length >= 2);
    expect((await fetch(`${s.url}/ok`)).status).toBe(200);
    expect(s.child.exitCode).toBeNull();
    const lines = s.out().split('\n').filter((l) => l.includes('request handler failed')).map((l) => JSON.parse(l) as Record<string, string>);
    expect(lines.map((l) => l.path).sort()).toEqual(['/boom-rejection', '/boom-timer']);
    expect(lines.find((l) => l.path === '/boom-timer')!.error).toContain('thrown in a timer of a request');
  });

  it('without it, the same request ends the process', async () => {
    const s = await start({ NO_GUARD: '1' });
    await fetch(`${s.url}/boom-timer`).catch(() => undefined);
    expect(await s.exited).not.toBe(0);
  });
});

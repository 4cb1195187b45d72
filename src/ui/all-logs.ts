/**
 * One log of a whole run: every step's lines merged in time order, each with its time,
 * step and stream (from the line index beside each log file, storage/logs.ts). A log
 * written before the index existed has no times: its lines come at its step's start, on
 * an unknown stream. Reads at most the last {@link TAIL_BYTES} of each step's log.
 */
import fs from 'node:fs/promises';
import { LINE_INDEX_SUFFIX } from '../storage/logs.js';
import type { RunRecord } from '../storage/types.js';

/** One line of the merged log. */
export interface MergedLine {
  /** ISO time the line came, or null when unknown. */
  ts: string | null;
  key: string;
  stream: 'stdout' | 'stderr' | null;
  line: string;
}

/** The merged log document (`GET /api/runs/ID/logs`). */
export interface MergedLog {
  lines: MergedLine[];
  /** True when older lines were left out (a step's log over the tail size, or over the line limit). */
  truncated: boolean;
}

/** How much of each step's log is read. */
export const TAIL_BYTES = 512 * 1024;
/** The most lines answered (the newest). */
export const MAX_LINES = 20_000;

async function readTail(file: string): Promise<{ text: string; skippedLines: number; truncated: boolean } | undefined> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = (await fh.stat()).size;
    if (size <= TAIL_BYTES) return { text: (await fh.readFile()).toString('utf8'), skippedLines: 0, truncated: false };
    // Count the lines before the tail, so the index's line numbers still apply.
    let skipped = 0;
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let pos = 0; pos < size - TAIL_BYTES; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - TAIL_BYTES - pos), pos);
      if (bytesRead === 0) break;
      for (let i = 0; i < bytesRead; i++) if (buf[i] === 10) skipped++;
      pos += bytesRead;
    }
    const tail = Buffer.allocUnsafe(TAIL_BYTES);
    const { bytesRead } = await fh.read(tail, 0, TAIL_BYTES, size - TAIL_BYTES);
    let text = tail.subarray(0, bytesRead).toString('utf8');
    const nl = text.indexOf('\n');
    text = nl >= 0 ? text.slice(nl + 1) : '';
    return { text, skippedLines: skipped + 1, truncated: true };
  } finally {
    await fh.close();
  }
}

async function readIndex(file: string): Promise<Array<{ line: number; ms: number; stream: 'stdout' | 'stderr' }>> {
  let text: string;
  try {
    text = await fs.readFile(file + LINE_INDEX_SUFFIX, 'utf8');
  } catch {
    return [];
  }
  const out: Array<{ line: number; ms: number; stream: 'stdout' | 'stderr' }> = [];
  for (const rec of text.split('\n')) {
    const m = /^(\d+) (\d+) (stdout|stderr)(?: \S+)?$/.exec(rec);
    if (m) out.push({ line: Number(m[1]), ms: Number(m[2]), stream: m[3] as 'stdout' | 'stderr' });
  }
  return out;
}

/** The run's steps' logs merged by time (ties keep plan order, then line order); `mask` is applied to every line. */
export async function mergedLog(run: RunRecord, mask: (text: string) => string): Promise<MergedLog> {
  const all: Array<MergedLine & { ms: number; pos: number; n: number }> = [];
  let truncated = false;
  for (const [pos, step] of run.steps.entries()) {
    const tail = await readTail(step.log);
    if (!tail || tail.text === '') continue;
    truncated ||= tail.truncated;
    const index = await readIndex(step.log);
    const lines = tail.text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const fallback = step.started_at ? Date.parse(step.started_at) : 0;
    let r = 0;
    let ms = NaN;
    let stream: 'stdout' | 'stderr' | null = null;
    for (const [i, text] of lines.entries()) {
      const n = tail.skippedLines + i;
      while (r < index.length && index[r]!.line <= n) {
        ms = index[r]!.ms;
        stream = index[r]!.stream;
        r++;
      }
      const known = !Number.isNaN(ms);
      all.push({ ts: known ? new Date(ms).toISOString() : null, key: step.key, stream, line: mask(text), ms: known ? ms : fallback, pos, n });
    }
  }
  all.sort((a, b) => a.ms - b.ms || a.pos - b.pos || a.n - b.n);
  if (all.length > MAX_LINES) {
    truncated = true;
    all.splice(0, all.length - MAX_LINES);
  }
  return { lines: all.map(({ ts, key, stream, line }) => ({ ts, key, stream, line })), truncated };
}

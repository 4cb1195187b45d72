/**
 * The terminal view, drawn by listr2: a task per step that has started (or ended without
 * starting), showing its status, attempt, elapsed time and the last line of its output;
 * finished steps collapse to one line. A bottom bar counts pending, running and finished
 * steps. Events only update plain fields here; a ticker copies them into listr2 a few
 * times a second, so a step printing a million lines costs a few redraws, not a million.
 */
import { Listr, PRESET_TIMER, type ListrTaskWrapper } from 'listr2';
import type { RunEvent } from '../execution/events.js';
import { formatDuration } from '../util/duration.js';
import type { Renderer } from './renderer.js';
import { visibleLine } from './style.js';
import { sameAs } from './plain.js';

type End = { kind: 'success' } | { kind: 'failure'; message: string } | { kind: 'skip'; message: string };

interface TaskState {
  key: string;
  attempt: number;
  startedAt: number;
  last?: string;
  shownLast?: string;
  note?: string;
  wrapper?: ListrTaskWrapper<unknown, any, any>;
  end: Promise<End>;
  finish: (e: End) => void;
  ended: boolean;
  promise?: Promise<unknown>;
}

/** How often the view is refreshed from the collected state (ms). */
const TICK_MS = 150;

/** listr2 task list that grows as steps start (listr2 runs tasks it was given up front). */
interface GrowingListr {
  tasks: unknown[];
  add(task: object): void;
  runTask(task: unknown): Promise<unknown>;
  run(): Promise<unknown>;
}

/** Whether this listr2 can grow a running task list (the view relies on it). */
export function ttySupported(): boolean {
  return typeof (Listr.prototype as unknown as Partial<GrowingListr>).runTask === 'function';
}

/** The listr2 view of a run. */
export class TtyRenderer implements Renderer {
  readonly summaryToStdout = true;
  private readonly tasks = new Map<string, TaskState>();
  private listr?: GrowingListr;
  private running?: Promise<unknown>;
  private keeperDone!: () => void;
  private keeper?: ListrTaskWrapper<unknown, any, any>;
  private ticker?: NodeJS.Timeout;
  private counts = { pending: 0, running: 0, done: 0 };
  private readonly failures = new Map<string, string>();

  /** `total`: the number of steps in the plan (for the bottom bar). */
  constructor(private readonly total: number) {
    this.counts.pending = total;
  }

  start(): void {
    const keeperEnd = new Promise<void>((r) => (this.keeperDone = r));
    const listr = new Listr([], {
      concurrent: true,
      exitOnError: false,
      registerSignalListeners: false, // the CLI owns SIGINT: cancel, then a second one kills
      rendererOptions: { collapseSubtasks: false, collapseErrors: true, showErrorMessage: true, collapseSkips: true, showSkipMessage: true, formatOutput: 'truncate', timer: PRESET_TIMER },
    }) as unknown as GrowingListr;
    // An untitled task keeps the list alive for the whole run; its output is the bottom bar.
    listr.add({
      task: async (_ctx: unknown, task: ListrTaskWrapper<unknown, any, any>) => {
        this.keeper = task;
        await keeperEnd;
        await Promise.allSettled([...this.tasks.values()].map((t) => t.promise));
      },
    });
    this.listr = listr;
    this.running = listr.run();
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.ticker.unref();
  }

  emit(e: RunEvent): void {
    const key = e.key;
    switch (e.type) {
      case 'log': {
        const t = key !== undefined ? this.tasks.get(key) : undefined;
        if (t && e.line !== undefined) t.last = e.line;
        return;
      }
      case 'step_started': {
        const t = this.task(key!);
        if (t.attempt === 0) {
          this.counts.pending--;
          this.counts.running++;
        }
        t.attempt = e.attempt ?? t.attempt + 1;
        t.note = undefined;
        return;
      }
      case 'retry_scheduled': {
        const t = this.task(key!);
        t.note = `attempt ${e.attempt} failed, retry in ${formatDuration(Number(e.data?.delay_ms ?? 0))}`;
        return;
      }
      case 'step_succeeded':
        return this.end(key!, { kind: 'success' });
      case 'step_failed':
        return this.end(key!, { kind: 'failure', message: `${key}  ${sameAs(this.failures, key!, e.message) ?? firstLine(e.message)}${took(e)}` });
      case 'step_skipped':
        return this.end(key!, { kind: 'skip', message: `${key}  skipped: ${e.message ?? ''}` });
      case 'step_canceled':
        return this.end(key!, { kind: 'skip', message: `${key}  canceled` });
      case 'run_finished':
        this.tick();
        this.keeperDone?.();
        return;
      default:
        return;
    }
  }

  /** The task of a step, added to the list when first seen. */
  private task(key: string): TaskState {
    let t = this.tasks.get(key);
    if (t) return t;
    let finish!: (e: End) => void;
    const end = new Promise<End>((r) => (finish = r));
    const state: TaskState = { key, attempt: 0, startedAt: Date.now(), end, finish, ended: false };
    this.tasks.set(key, state);
    const listr = this.listr!;
    listr.add({
      title: key,
      rendererOptions: { outputBar: 1, persistentOutput: false },
      task: async (_ctx: unknown, task: ListrTaskWrapper<unknown, any, any>) => {
        state.wrapper = task;
        const r = await state.end;
        if (r.kind === 'failure') throw new Error(r.message);
        if (r.kind === 'skip') task.skip(r.message);
        else task.title = key;
      },
    });
    state.promise = listr.runTask(listr.tasks[listr.tasks.length - 1]);
    return state;
  }

  private end(key: string, e: End): void {
    const t = this.task(key);
    if (t.ended) return;
    t.ended = true;
    if (t.attempt === 0) this.counts.pending--;
    else this.counts.running--;
    this.counts.done++;
    t.finish(e);
  }

  /** Copies titles, elapsed times and last lines into listr2. */
  private tick(): void {
    const now = Date.now();
    for (const t of this.tasks.values()) {
      if (t.ended || !t.wrapper || t.attempt === 0) continue;
      const parts = [t.key];
      if (t.attempt > 1) parts.push(`attempt ${t.attempt}`);
      parts.push(formatDuration(now - t.startedAt));
      if (t.note) parts.push(t.note);
      const title = parts.join('  ·  ');
      if (t.wrapper.title !== title) t.wrapper.title = title;
      if (t.last !== undefined && t.last !== t.shownLast) {
        t.shownLast = t.last;
        t.wrapper.output = visibleLine(t.last);
      }
    }
    if (this.keeper) {
      const c = this.counts;
      this.keeper.output = `${c.running} running, ${c.pending} pending, ${c.done} of ${this.total} done`;
    }
  }

  async close(): Promise<void> {
    this.keeperDone?.();
    clearInterval(this.ticker);
    await this.running;
  }
}

function firstLine(s: string | undefined): string {
  if (!s) return 'failed';
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

function took(e: RunEvent): string {
  const ms = e.data?.duration_ms;
  return typeof ms === 'number' ? ` (${formatDuration(ms)})` : '';
}

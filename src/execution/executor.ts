/**
 * The executor: runs a plan's steps with their handlers and reports everything as one
 * stream of RunEvents. A step starts once the steps it waits for succeeded, with at most
 * `concurrency` steps at once and at most each pool's limit (pool slots are shared by all
 * runs of one RUNNER_HOME through the store). A failed step's downstream steps are
 * skipped, independent branches carry on; `failFast` stops launching after the first
 * failure. Failed attempts are retried per the asset's policy; an attempt that outlives
 * its timeout, or a run that is canceled, aborts the handler, which terminates its tree.
 *
 * A serve that stops aborts the run with a `ServeHandover` (handover.ts): running steps
 * whose launcher lets go of them (Kubernetes Jobs) are handed over, local ones are
 * canceled, steps not started stay pending, and the run ends without `run_finished`
 * (`RunOutcome.handedOver`). The next serve carries it on with {@link ResumeState}: the
 * recorded steps as they are, the re-attached Jobs as attempts under way, the rest run.
 *
 * This module is the scheduling; one attempt of a step (config, secrets, environment,
 * masked log, containment, timeout) is step-attempt.ts, a resumed run's recorded steps
 * resumed-steps.ts, the options executor-options.ts.
 */
import type { StepResult } from '../handlers/handler.js';
import type { RunStatus, StepStatus } from '../definitions/model.js';
import type { RunEvent } from './events.js';
import { hasAttemptLeft, retryDelayMs } from './retry.js';
import { closeRunCgroups } from './containment/cgroup-pool.js';
import { isoNow } from './clock.js';
import { setLongTimeout } from '../util/timers.js';
import { MemoryPoolSlots, type PoolSlots } from './pools.js';
import { preflight } from './preflight.js';
import { isHandover } from './handover.js';
import type { ExecutorOptions } from './executor-options.js';
import { type AttachedAttempt, type ResumeState, restoreSteps } from './resumed-steps.js';
import { type AttemptResult, StepAttempts } from './step-attempt.js';
import type { StepOutcome, StepRun } from './step-run.js';

/** How the run ended. */
export interface RunOutcome {
  runId: string;
  status: RunStatus;
  steps: StepOutcome[];
  startedAt: number;
  endedAt: number;
  /**
   * The run was handed over (serve stopped): its steps still `running` run on elsewhere,
   * those `pending` wait for the next serve; no `run_finished` was emitted.
   */
  handedOver?: boolean;
}

/** Runs a plan to the end; resolves with the outcome once `run_finished` was emitted. */
export function execute(opts: ExecutorOptions): Promise<RunOutcome> {
  return new Execution(opts).run();
}

class Execution {
  private readonly steps: StepRun[];
  private readonly ready: StepRun[] = [];
  private readonly mask: (s: string) => string;
  /** Runs the attempts (and, on a resume, follows the attached ones). */
  private readonly attempts: StepAttempts;
  private readonly slots: PoolSlots;
  private readonly concurrency: number;
  private running = 0;
  private done = 0;
  private stopLaunching = false;
  private canceled = false;
  /** Serve is stopping: steps that can outlive it are handed over (see the module's doc). */
  private handingOver = false;
  private handedOver = 0;
  private cancelMessage = 'run canceled';
  private poolTimer?: NodeJS.Timeout;
  private startedAt = Date.now();
  private resolve!: (o: RunOutcome) => void;

  constructor(private readonly o: ExecutorOptions) {
    this.mask = o.mask ?? ((s) => s);
    this.attempts = new StepAttempts(o, this.mask);
    this.slots = o.slots ?? new MemoryPoolSlots();
    this.concurrency = Math.max(1, Math.floor(o.concurrency));
    this.steps = o.plan.steps.map((step) => ({ key: step.key, step, phase: 'waiting', waitingOn: step.upstream.length, status: 'pending', attempts: 0, poolHeld: false }));
    if (o.resume) this.done = restoreSteps(this.steps, o.resume);
  }

  /** Starts a resumed run: skips what waits on a step that did not succeed, follows the attached attempts. */
  private resumeSteps(r: ResumeState): void {
    for (const s of this.steps) if (s.phase === 'done' && s.status !== 'success') this.skipBelow(s, `upstream ${s.key} ${s.status === 'canceled' ? 'was canceled' : s.status === 'skipped' ? 'was skipped' : 'failed'}`);
    for (const [key, follow] of r.attached) {
      const s = this.steps.find((x) => x.key === key);
      if (!s || s.phase !== 'waiting') continue;
      s.phase = 'running';
      s.startedAt ??= Date.now();
      this.running++;
      const pool = s.step.asset.pool;
      // The slot the handed-over attempt held is still this run's: taking it again keeps the count right.
      if (pool !== undefined) s.poolHeld = this.slots.acquirePoolSlot(pool, this.o.pools?.[pool] ?? 1, this.o.runId, s.key);
      void this.attempts.follow(s, follow).then((res) => this.attemptDone(s, res));
    }
  }

  run(): Promise<RunOutcome> {
    const done = new Promise<RunOutcome>((r) => (this.resolve = r));
    this.startedAt = Date.now();
    this.emit({ type: 'run_started', status: 'started', data: { steps: this.steps.length, concurrency: this.concurrency, ...(this.o.resume ? { resumed: true } : {}) } });
    if (this.o.resume) this.resumeSteps(this.o.resume);
    const signal = this.o.signal;
    if (signal?.aborted) this.cancel(signal.reason);
    else signal?.addEventListener('abort', () => this.cancel(signal.reason), { once: true });
    const checks = this.o.preflight === false || this.canceled ? Promise.resolve(new Map<string, string>()) : preflight(this.o);
    void checks.then((failures) => {
      // Steps whose checks failed fail without running; the rest start.
      for (const s of this.steps) {
        const why = failures.get(s.key);
        if (why !== undefined && s.phase === 'waiting') this.fail(s, this.mask(why));
      }
      for (const s of this.steps) if (s.waitingOn === 0 && s.phase === 'waiting') this.makeReady(s);
      this.pump();
      this.maybeFinish();
    });
    return done;
  }

  /** Stamps an event (`ts`, `type`, `run_id` first, as documented) and hands it to the sink. */
  private emit(e: Omit<RunEvent, 'ts' | 'run_id'>): void {
    const { type, ...rest } = e;
    this.o.sink.emit({ ts: isoNow(), type, run_id: this.o.runId, ...rest });
  }

  /** Inserts into the ready queue, kept in plan order so the order is deterministic. */
  private makeReady(s: StepRun): void {
    s.phase = 'ready';
    const q = this.ready;
    let i = q.length;
    while (i > 0 && q[i - 1]!.step.index > s.step.index) i--;
    q.splice(i, 0, s);
  }

  /** Starts as many ready steps as the concurrency and the pools allow. */
  private pump(): void {
    if (this.stopLaunching) return;
    let blocked = false;
    for (let i = 0; i < this.ready.length && this.running < this.concurrency; ) {
      const s = this.ready[i]!;
      const pool = s.step.asset.pool;
      if (pool !== undefined) {
        const limit = this.o.pools?.[pool] ?? 1;
        if (!this.slots.acquirePoolSlot(pool, limit, this.o.runId, s.key)) {
          blocked = true;
          i++;
          continue;
        }
        s.poolHeld = true;
      }
      this.ready.splice(i, 1);
      this.start(s);
    }
    // Slots held by other runs free up without telling us: look again soon.
    if (blocked && this.running < this.concurrency && !this.poolTimer) {
      this.poolTimer = setTimeout(() => {
        this.poolTimer = undefined;
        this.pump();
      }, this.o.poolPollMs ?? 200);
    }
  }

  private start(s: StepRun): void {
    s.phase = 'running';
    s.attempts++;
    s.startedAt ??= Date.now();
    this.running++;
    this.emit({ type: 'step_started', key: s.key, attempt: s.attempts, status: 'running' });
    void this.attempts.run(s).then((r) => this.attemptDone(s, r));
  }

  private attemptDone(s: StepRun, r: AttemptResult): void {
    this.running--;
    if (r.handedOver && this.handingOver) {
      // It runs on (a Job): its pool slot stays taken, its step stays running for the next serve.
      s.phase = 'handed_over';
      s.status = 'running';
      s.metadata = r.metadata;
      this.handedOver++;
      this.maybeFinish();
      return;
    }
    if (s.poolHeld) {
      s.poolHeld = false;
      this.slots.releasePoolSlot(s.step.asset.pool!, this.o.runId, s.key);
    }
    s.exitCode = r.exitCode;
    s.metadata = r.metadata;
    const error = r.error !== undefined ? this.mask(r.error) : undefined;
    if (r.canceled || this.canceled) {
      this.finish(s, 'canceled', this.cancelMessage);
    } else if (r.ok) {
      this.finish(s, 'success', undefined, r);
      for (const i of s.step.downstream) {
        const d = this.steps[i]!;
        if (--d.waitingOn === 0 && d.phase === 'waiting') this.makeReady(d);
      }
    } else if ((!this.stopLaunching || this.handingOver) && hasAttemptLeft(s.step.asset.retry, s.attempts)) {
      const delay = retryDelayMs(s.step.asset.retry!, s.attempts, this.o.random);
      s.error = error;
      if (this.handingOver) {
        // Its next attempt is the next serve's.
        this.emit({ type: 'retry_scheduled', key: s.key, attempt: s.attempts, message: error ?? 'failed', data: { delay_ms: 0, next_attempt: s.attempts + 1, exit_code: r.exitCode ?? null } });
        this.makeReady(s);
        this.maybeFinish();
        return;
      }
      s.phase = 'backoff';
      this.emit({ type: 'retry_scheduled', key: s.key, attempt: s.attempts, message: error ?? 'failed', data: { delay_ms: delay, next_attempt: s.attempts + 1, exit_code: r.exitCode ?? null } });
      s.backoff = setLongTimeout(() => {
        s.backoff = undefined;
        this.makeReady(s);
        this.pump();
      }, delay);
    } else {
      this.fail(s, error ?? 'failed', r);
    }
    this.pump();
    this.maybeFinish();
  }

  private fail(s: StepRun, error: string, r?: StepResult): void {
    this.finish(s, 'failure', error, r);
    this.skipBelow(s, `upstream ${s.key} failed`);
    if (this.o.failFast && !this.stopLaunching) {
      this.stopLaunching = true;
      for (const d of this.steps) {
        if (d.phase === 'waiting' || d.phase === 'ready') this.dequeue(d, 'skipped', `not started: --fail-fast after ${s.key} failed`);
        else if (d.phase === 'backoff') this.dequeue(d, 'failure', d.error ?? 'failed');
      }
    }
  }

  /** Skips everything downstream of `s`, in plan order, saying why. */
  private skipBelow(s: StepRun, why: string): void {
    const skip: StepRun[] = [];
    const stack = [...s.step.downstream];
    while (stack.length > 0) {
      const d = this.steps[stack.pop()!]!;
      if (d.phase === 'done' || d.status === 'skipped') continue;
      d.status = 'skipped';
      skip.push(d);
      stack.push(...d.step.downstream);
    }
    skip.sort((a, b) => a.step.index - b.step.index);
    for (const d of skip) this.dequeue(d, 'skipped', why);
  }

  /** Ends a step that is not running (waiting, ready or waiting for a retry). */
  private dequeue(s: StepRun, status: StepStatus, message: string): void {
    if (s.phase === 'ready') this.ready.splice(this.ready.indexOf(s), 1);
    s.backoff?.clear();
    s.backoff = undefined;
    this.finish(s, status, message);
  }

  private finish(s: StepRun, status: StepStatus, message?: string, r?: StepResult): void {
    s.phase = 'done';
    s.status = status;
    s.endedAt = Date.now();
    if (message !== undefined) s.error = message;
    this.done++;
    const type = status === 'success' ? 'step_succeeded' : status === 'failure' ? 'step_failed' : status === 'skipped' ? 'step_skipped' : 'step_canceled';
    const e: Omit<RunEvent, 'ts' | 'run_id'> = { type, key: s.key, status };
    if (s.attempts > 0) e.attempt = s.attempts;
    if (message !== undefined) e.message = message;
    if (r || s.attempts > 0) {
      const data: Record<string, unknown> = { duration_ms: s.endedAt - (s.startedAt ?? s.endedAt) };
      if (r?.exitCode !== undefined) data.exit_code = r.exitCode;
      if (r?.metadata) data.metadata = r.metadata;
      if (r?.warnings?.length) data.warnings = r.warnings.map(this.mask);
      e.data = data;
    }
    this.emit(e);
  }

  /** Cancels the run: nothing new starts, waiting steps end canceled, running ones are aborted. */
  private cancel(reason: unknown): void {
    if (isHandover(reason)) return this.handOver(reason);
    if (this.canceled) return;
    this.canceled = true;
    this.stopLaunching = true;
    if (typeof reason === 'string' && reason !== '') this.cancelMessage = `run canceled (${reason})`;
    clearTimeout(this.poolTimer);
    for (const s of this.steps) {
      if (s.phase === 'waiting' || s.phase === 'ready' || s.phase === 'backoff') this.dequeue(s, 'canceled', this.cancelMessage);
      else if (s.phase === 'running') s.controller?.abort('canceled');
    }
    this.maybeFinish();
  }

  /** Serve is stopping: nothing new starts, running steps are asked to let go (a Job) or end (a process). */
  private handOver(reason: Error): void {
    if (this.canceled || this.handingOver) return;
    this.handingOver = true;
    this.stopLaunching = true;
    this.cancelMessage = `run canceled (${reason.message})`;
    clearTimeout(this.poolTimer);
    for (const s of this.steps) {
      if (s.phase === 'backoff') {
        // Its next attempt is the next serve's.
        s.backoff?.clear();
        s.backoff = undefined;
        this.makeReady(s);
      } else if (s.phase === 'running') s.controller?.abort(reason);
    }
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (!this.resolve) return;
    if (this.handingOver && this.running === 0) {
      if (this.handedOver > 0) return this.finishHandedOver();
      // Nothing outlives this runner: the run is canceled, as any canceled run.
      this.canceled = true;
      for (const s of this.steps) if (s.phase === 'waiting' || s.phase === 'ready') this.dequeue(s, 'canceled', this.cancelMessage);
    }
    if (this.done < this.steps.length || this.running > 0 || !this.resolve) return;
    const resolve = this.resolve;
    this.resolve = undefined as never;
    clearTimeout(this.poolTimer);
    let status: RunStatus = 'success';
    if (this.canceled) status = 'canceled';
    else if (this.steps.some((s) => s.status !== 'success')) status = 'failure';
    const failed = this.steps.filter((s) => s.status === 'failure').length;
    closeRunCgroups(this.o.runId, this.o.processes);
    const endedAt = Date.now();
    this.emit({ type: 'run_finished', status, ...(failed > 0 ? { message: `${failed} step${failed === 1 ? '' : 's'} failed` } : {}), data: { duration_ms: endedAt - this.startedAt } });
    resolve({ runId: this.o.runId, status, steps: this.outcomes(), startedAt: this.startedAt, endedAt });
  }

  /** Ends a handed-over run here: no `run_finished`, its Jobs run on, the next serve carries it on. */
  private finishHandedOver(): void {
    const resolve = this.resolve;
    this.resolve = undefined as never;
    closeRunCgroups(this.o.runId, this.o.processes);
    resolve({ runId: this.o.runId, status: 'started', steps: this.outcomes(), startedAt: this.startedAt, endedAt: Date.now(), handedOver: true });
  }

  private outcomes(): StepOutcome[] {
    return this.steps.map(({ key, status, attempts, startedAt, endedAt, error, exitCode, metadata }) => ({ key, status, attempts, startedAt, endedAt, error, exitCode, metadata }));
  }
}

/**
 * One attempt of a step, to its result: either the handler run here (its config with
 * every reference substituted and its secrets resolved, the step environment, the masked
 * log, the attempt's containment, under the asset's timeout), or an attempt under way
 * elsewhere (a resumed run's re-attached Job) followed to its end. Neither rejects.
 */
import type { Handler, RunContext, StepLog, StepResult } from '../handlers/handler.js';
import type { RunEvent } from './events.js';
import { configScope } from './plan.js';
import { secretsIn, substituteDeep } from '../definitions/interpolate.js';
import { formatDuration } from '../util/duration.js';
import { StepContainment } from './containment/step.js';
import { childEnvironment, deniedFor, stepEnvironment } from './step-env.js';
import { isoNow } from './clock.js';
import { setLongTimeout } from '../util/timers.js';
import type { ExecutorOptions } from './executor-options.js';
import type { AttachedAttempt } from './resumed-steps.js';
import type { StepRun } from './step-run.js';

/** How an attempt ended: the handler's result, marked when the attempt was canceled. */
export interface AttemptResult extends StepResult {
  canceled?: boolean;
}

/** Runs the attempts of one run's steps (one per execution: it reads the process environment once). */
export class StepAttempts {
  /** The environment of the runner's own helper processes (installers, `docker kill`). */
  private readonly childEnv: Record<string, string>;
  private envEntries?: Array<[string, string | undefined]>; // process.env, read once per run

  constructor(
    private readonly o: ExecutorOptions,
    private readonly mask: (s: string) => string,
  ) {
    this.childEnv = childEnvironment(o.processEnv ?? process.env, o.envPolicy);
  }

  /** One attempt: substitute the config, run the handler under a timeout; never rejects. */
  async run(s: StepRun): Promise<AttemptResult> {
    const { asset } = s.step;
    const ac = new AbortController();
    s.controller = ac;
    let timedOut = false;
    const timer = asset.timeoutMs !== undefined ? setLongTimeout(() => ((timedOut = true), ac.abort('timeout')), asset.timeoutMs) : undefined;
    let result: StepResult;
    try {
      const handler = this.o.handler(asset.handler);
      if (!handler) throw new Error(`unknown handler \`${asset.handler}\``);
      const { config, secrets, named } = await this.config(s, handler, ac.signal);
      if (ac.signal.aborted) result = { ok: false };
      else {
        const { ctx, flushLog } = this.context(s, handler, config, named, ac.signal);
        try {
          result = await handler.run({ ...ctx, ...(secrets ? { secrets } : {}) });
        } finally {
          flushLog();
        }
      }
    } catch (err) {
      result = { ok: false, error: err instanceof Error ? err.message : String(err) };
    } finally {
      timer?.clear();
      s.controller = undefined;
    }
    if (ac.signal.aborted && !timedOut) return result.handedOver ? result : { ...result, ok: false, canceled: true };
    if (timedOut) {
      const head = `timed out after ${formatDuration(asset.timeoutMs!)}`;
      return { ...result, ok: false, error: result.error ? `${head}; ${result.error}` : head };
    }
    return result;
  }

  /** An attached attempt to its end; never rejects. */
  async follow(s: StepRun, follow: AttachedAttempt): Promise<AttemptResult> {
    const ac = new AbortController();
    s.controller = ac;
    const log: StepLog = (line, stream = 'stdout', partial, time) => this.logEvent(s.key, s.attempts, this.mask(line), stream, partial === true, time);
    try {
      const r = await follow({ signal: ac.signal, log });
      return ac.signal.aborted && !r.handedOver ? { ...r, ok: false, canceled: true } : r;
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    } finally {
      s.controller = undefined;
    }
  }

  /**
   * The step's config with every reference substituted, secrets resolved, and the values
   * of the secrets the handler declares outside its config (`secretRefs`, e.g. the
   * OpenMetadata JWT). A secret that cannot be resolved fails the step before `run`.
   */
  private async config(s: StepRun, handler: Handler<any>, signal: AbortSignal): Promise<StepConfig> {
    const raw = s.step.asset.config;
    const names = secretsIn(raw);
    const declared = [...secretsIn(handler.secretRefs?.(s.step.asset, this.o.env) ?? [])];
    for (const n of declared) names.add(n);
    let values: Record<string, string | undefined> = {};
    if (names.size > 0) values = this.o.resolveSecrets ? await this.o.resolveSecrets([...names].sort(), signal) : {};
    const scope = configScope(this.o.env, this.o.processEnv ?? process.env, (name) => values[name]);
    const r = substituteDeep(raw, scope);
    if (r.errors.length > 0) throw new Error(r.errors.map((e) => `config.${e.path.join('.')}: ${e.message}`).join('; '));
    if (declared.length === 0) return { config: r.value, named: names };
    const secrets: Record<string, string> = {};
    for (const n of declared) {
      const v = values[n];
      if (v === undefined) throw new Error(`secret \`${n}\` could not be resolved`);
      secrets[n] = v;
    }
    return { config: r.value, named: names, secrets };
  }

  /**
   * The handler's context: the step environment (what `named` secrets let through), the
   * masked log and the attempt's containment; `flushLog` writes what a long line left held.
   */
  private context(s: StepRun, handler: Handler<any>, config: unknown, named: Set<string>, signal: AbortSignal): AttemptContext {
    const { runId, processes } = this.o;
    const key = s.key;
    const attempt = s.attempts;
    const mask = this.mask;
    const { asset } = s.step;
    this.envEntries ??= Object.entries(this.o.processEnv ?? process.env);
    const stepEnv = stepEnvironment({
      processEnv: this.envEntries,
      inherit: [...(asset.inheritEnv ?? []), ...(this.o.env.inheritEnv ?? []), ...(handler.inheritEnv ?? [])],
      denied: deniedFor(this.o.envPolicy, named),
    });
    const emit = (line: string, stream: 'stdout' | 'stderr', partial: boolean, time?: string) => this.logEvent(key, attempt, line, stream, partial, time);
    // The raw end of a long line's last piece, masked with the next piece: a secret
    // straddling the cut between two pieces is masked whole.
    const carry = { stdout: '', stderr: '' };
    const maskPiece = this.o.maskPiece;
    const flushLog = () => {
      for (const stream of ['stdout', 'stderr'] as const) {
        if (carry[stream] !== '') emit(mask(carry[stream]), stream, true);
        carry[stream] = '';
      }
    };
    const ctx = {
      asset: s.step.asset,
      config,
      env: this.o.env,
      projectDir: this.o.projectDir,
      runId,
      attempt,
      signal,
      mask,
      ...(this.o.launcher ? { launcher: this.o.launcher } : {}),
      // The hot path of a chatty step: one object per line, built in its final shape.
      log: (line: string, stream: 'stdout' | 'stderr' = 'stdout', partial?: boolean, time?: string) => {
        const held = carry[stream];
        if (held === '' && (!partial || !maskPiece)) return emit(mask(line), stream, partial === true, time);
        if (!partial) {
          carry[stream] = '';
          return emit(mask(held + line), stream, false, time);
        }
        const [masked, rest] = maskPiece!(held + line);
        carry[stream] = rest;
        if (masked !== '') emit(masked, stream, true);
      },
      contain: new StepContainment({ runId, key, attempt, recorder: processes, cgroups: this.o.cgroups }),
      stepEnv,
      childEnv: this.childEnv,
    };
    return { ctx, flushLog };
  }

  /** Emits one line of a step's log (already masked). */
  private logEvent(key: string, attempt: number, line: string, stream: 'stdout' | 'stderr', partial: boolean, time?: string): void {
    const e: RunEvent = { ts: isoNow(), type: 'log', run_id: this.o.runId, key, attempt, line, stream };
    if (partial) e.partial = true;
    if (time !== undefined) e.source_ts = time;
    this.o.sink.emit(e);
  }
}

/** A step's config as its attempt runs it: substituted, with the secrets it names and the handler's declared ones. */
interface StepConfig {
  config: unknown;
  /** Every secret the config or the handler names (the step environment lets their variables through). */
  named: Set<string>;
  /** The values of the handler's declared secrets (`secretRefs`); absent when it declares none. */
  secrets?: Record<string, string>;
}

/** What a handler is run with, but its declared secrets, and the flush of its held log pieces. */
interface AttemptContext {
  ctx: Omit<RunContext<unknown>, 'secrets'>;
  flushLog: () => void;
}

/**
 * Scenarios written the way Dagster reports them, for the double (test/support/fake-dagster.ts).
 * test/watch/real-dagster.test.ts runs the same scenario on the real webserver and compares
 * what the watcher saw, so the double cannot drift from Dagster unnoticed.
 */
import type { FakeRun } from '../support/fake-dagster.js';

/** What a scenario is about. */
export interface OpFailure {
  runId: string;
  location: string;
  job: string;
  /** The op that succeeds first. */
  upstream: string;
  /** The op that raises. */
  op: string;
  /** `ValueError: ...`: the exception's class and message. */
  className: string;
  message: string;
  /** Dagster's clock (seconds). */
  at: number;
  /**
   * As Dagster 1.13.28 reports it: every run tagged `dagster/code_location`, and the step's
   * error also on the `RunFailureEvent` (1.11.13 does neither).
   */
  as113?: boolean;
}

/**
 * A job whose second op raises, run with the in-process executor on an instance without run
 * retries (read from Dagster 1.11.13's event log of test/fixtures/dagster `fails_in_one_op`):
 * the downstream op never starts, so it has no step stats.
 */
export function opFailureRun(s: OpFailure): FakeRun {
  const pid = 4242;
  const error = {
    message: `dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op "${s.op}":\n`,
    className: 'DagsterExecutionStepExecutionError',
    chain: [{ message: `${s.className}: ${s.message}\n`, className: s.className, explicit: true }],
  };
  return {
    runId: s.runId,
    jobName: s.job,
    location: s.location,
    status: 'FAILURE',
    tags: { 'dagster/failure_reason': 'STEP_FAILURE', ...(s.as113 ? { 'dagster/code_location': s.location } : {}) },
    creationTime: s.at - 5,
    startTime: s.at - 4,
    endTime: s.at,
    updateTime: s.at,
    steps: [
      { stepKey: s.upstream, status: 'SUCCESS' },
      { stepKey: s.op, status: 'FAILURE' },
    ],
    events: [
      { type: 'RunStartingEvent', message: '' },
      { type: 'EngineEvent', message: `Started process for run (pid: ${pid}).` },
      { type: 'RunStartEvent', message: `Started execution of run for "${s.job}".` },
      { type: 'EngineEvent', message: `Executing steps in process (pid: ${pid})` },
      { type: 'ResourceInitStartedEvent', message: 'Starting initialization of resources [io_manager].' },
      { type: 'ResourceInitSuccessEvent', message: 'Finished initialization of resources [io_manager].' },
      { type: 'LogsCapturedEvent', message: `Started capturing logs in process (pid: ${pid}).` },
      { type: 'ExecutionStepStartEvent', stepKey: s.upstream, message: `Started execution of step "${s.upstream}".` },
      { type: 'ExecutionStepOutputEvent', stepKey: s.upstream, message: 'Yielded output "result" of type "Int". (Type check passed).' },
      { type: 'HandledOutputEvent', stepKey: s.upstream, message: 'Handled output "result" using IO manager "io_manager"' },
      { type: 'ExecutionStepSuccessEvent', stepKey: s.upstream, message: `Finished execution of step "${s.upstream}" in 10ms.` },
      { type: 'ExecutionStepStartEvent', stepKey: s.op, message: `Started execution of step "${s.op}".` },
      { type: 'LoadedInputEvent', stepKey: s.op, message: `Loaded input "rows" using input manager "io_manager", from output "result" of step "${s.upstream}"` },
      { type: 'ExecutionStepInputEvent', stepKey: s.op, message: 'Got input "rows" of type "Int". (Type check passed).' },
      {
        type: 'ExecutionStepFailureEvent',
        stepKey: s.op,
        message: `Execution of step "${s.op}" failed.`,
        error,
      },
      { type: 'EngineEvent', message: `Finished steps in process (pid: ${pid}) in 20ms` },
      { type: 'RunFailureEvent', message: `Execution of run for "${s.job}" failed. Steps failed: ['${s.op}'].`, error: s.as113 ? error : null },
    ],
  };
}

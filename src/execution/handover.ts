/**
 * The abort reason of a serve that stops (SIGTERM: a redeploy, a node drain) rather than
 * of a user who cancels. A step that runs elsewhere and survives this process (a
 * Kubernetes Job) is then handed over: the launcher stops following it and leaves it
 * running, the run is recorded as handed over, and the next `runner serve` re-attaches
 * to it and carries the run on (launchers/kubernetes/reattach.ts). Local processes cannot
 * outlive the runner: their steps are canceled as on any cancel.
 */

/** Aborts a run or step because `runner serve` is stopping, not because someone canceled it. */
export class ServeHandover extends Error {
  constructor(message = 'runner serve is stopping') {
    super(message);
    this.name = 'ServeHandover';
  }
}

/** True when an abort `reason` is a serve handing its runs over. */
export function isHandover(reason: unknown): reason is ServeHandover {
  return reason instanceof ServeHandover;
}

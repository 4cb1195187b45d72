/**
 * What a pod's status means for its step, in plain words: still pending (and why),
 * running, succeeded, failed (exit code, OOMKilled, deadline), disrupted (evicted or
 * preempted: the Job replaces the pod, the step goes on), or stuck on something that will
 * not fix itself (an image that cannot be pulled, a broken container config).
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { CONTAINER } from './names.js';

/** The state of one pod. */
export type PodState =
  | { kind: 'pending'; unschedulable?: string; waiting?: string }
  | { kind: 'running' }
  | { kind: 'succeeded' }
  | { kind: 'failed'; exitCode: number | null; error: string }
  | { kind: 'disrupted'; reason: string }
  | { kind: 'stuck'; error: string };

/** Waiting reasons that do not fix themselves: the step fails at once. */
const STUCK = new Set(['ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError']);

const condition = (pod: V1Pod, type: string) => pod.status?.conditions?.find((c) => c.type === type);

/** The state of `pod`. */
export function podState(pod: V1Pod): PodState {
  const st = pod.status ?? {};
  const cs = st.containerStatuses?.find((c) => c.name === CONTAINER) ?? st.containerStatuses?.[0];
  const term = cs?.state?.terminated;
  const disruption = condition(pod, 'DisruptionTarget');
  if (st.phase === 'Succeeded') return { kind: 'succeeded' };
  if (st.phase === 'Failed') {
    if (disruption?.status === 'True' || st.reason === 'Evicted' || st.reason === 'Preempting') {
      return { kind: 'disrupted', reason: `${st.reason ?? disruption?.reason ?? 'Disrupted'}${st.message || disruption?.message ? `: ${st.message || disruption?.message}` : ''}` };
    }
    if (st.reason === 'DeadlineExceeded') return { kind: 'failed', exitCode: term?.exitCode ?? null, error: `DeadlineExceeded: the pod ran longer than its deadline${st.message ? ` (${st.message})` : ''}` };
    if (term?.reason === 'OOMKilled') {
      const limit = pod.spec?.containers.find((c) => c.name === CONTAINER)?.resources?.limits?.memory;
      return { kind: 'failed', exitCode: term.exitCode ?? 137, error: `OOMKilled: the container used more memory than its limit${limit ? ` (${limit})` : ''} and was killed (exit code ${term.exitCode ?? 137}); raise kubernetes.resources.limits.memory` };
    }
    if (term) return { kind: 'failed', exitCode: term.exitCode, error: `exit code ${term.exitCode}${term.signal ? ` (signal ${term.signal})` : ''}${term.message ? `: ${term.message.trim().split('\n').pop()}` : ''}` };
    return { kind: 'failed', exitCode: null, error: `the pod failed${st.reason ? `: ${st.reason}` : ''}${st.message ? `: ${st.message}` : ''}` };
  }
  const waiting = cs?.state?.waiting;
  if (waiting?.reason && STUCK.has(waiting.reason)) {
    const image = pod.spec?.containers.find((c) => c.name === CONTAINER)?.image;
    const what = waiting.reason === 'ImagePullBackOff' || waiting.reason === 'ErrImageNeverPull' || waiting.reason === 'InvalidImageName' ? `the image ${image ?? ''} cannot be pulled` : 'the container cannot be created';
    return { kind: 'stuck', error: `${waiting.reason}: ${what}${waiting.message ? `: ${waiting.message}` : ''}` };
  }
  if (st.phase === 'Running' || cs?.state?.running || term) return { kind: 'running' };
  const scheduled = condition(pod, 'PodScheduled');
  return {
    kind: 'pending',
    ...(scheduled?.status === 'False' ? { unschedulable: `${scheduled.reason ?? 'Unschedulable'}${scheduled.message ? `: ${scheduled.message}` : ''}` } : {}),
    ...(waiting?.reason ? { waiting: waiting.reason } : {}),
  };
}

/** Why a Job failed, from its conditions, or undefined when it did not. */
export function jobFailure(job: V1Job): string | undefined {
  const failed = job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  if (!failed) return undefined;
  if (failed.reason === 'DeadlineExceeded') return `DeadlineExceeded: the Job ran longer than its activeDeadlineSeconds (${job.spec?.activeDeadlineSeconds ?? '?'}s) and Kubernetes stopped it`;
  return `${failed.reason ?? 'Failed'}${failed.message ? `: ${failed.message}` : ''}`;
}

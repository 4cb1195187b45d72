/**
 * Names and labels of the runner's Kubernetes objects. A Job's name is deterministic (the
 * same run, asset and attempt always name the same Job, so a restarted runner finds it)
 * and at most 63 characters: a readable slug of the asset key and a hash suffix.
 */
import { createHash } from 'node:crypto';

/** Label keys the runner sets on every Job, pod and Secret it creates. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  runId: 'runner.dev/run-id',
  asset: 'runner.dev/asset',
  attempt: 'runner.dev/attempt',
  env: 'runner.dev/environment',
} as const;

/** The value of {@link LABELS.managedBy}. */
export const MANAGED_BY = 'runner';

/** Annotation holding the exact asset key (a label value cannot hold `/`). */
export const ASSET_KEY_ANNOTATION = 'runner.dev/asset-key';

/** The container's name in every step pod. */
export const CONTAINER = 'step';

const MAX_NAME = 63;

function hash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** Lowercase letters, digits and `-`, no leading or trailing `-`. */
function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

/** The Job (and Secret) name of one attempt: `r-<asset slug>-<attempt>-<hash>`, at most 63 characters. */
export function jobName(runId: string, key: string, attempt: number): string {
  const suffix = `-${attempt}-${hash(`${runId}\0${key}\0${attempt}`, 10)}`;
  const room = MAX_NAME - 2 - suffix.length;
  const s = slug(key).slice(0, room).replace(/-+$/, '');
  return `r-${s}${suffix}`;
}

/** An asset key as a label value (`/` becomes `.`; long keys are cut and get a hash). */
export function assetLabel(key: string): string {
  const v = key.replace(/\//g, '.').replace(/[^A-Za-z0-9._-]/g, '-');
  if (v.length <= MAX_NAME) return v;
  return `${v.slice(0, MAX_NAME - 9).replace(/[^A-Za-z0-9]+$/, '')}-${hash(key, 8)}`;
}

/** A label selector of `labels` (`k=v,k2=v2`). */
export function selector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** The selector of one attempt's pods (and Job): its run, its asset and its attempt. */
export function attemptSelector(runId: string, key: string, attempt: number): string {
  return selector({ [LABELS.runId]: runId, [LABELS.asset]: assetLabel(key), [LABELS.attempt]: String(attempt) });
}

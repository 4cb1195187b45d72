/**
 * The objects of one step attempt: a Job (one pod, `restartPolicy: Never`, `backoffLimit:
 * 0` because the runner owns retries, a `podFailurePolicy` that ignores disruptions so an
 * evicted pod is replaced rather than failed, `activeDeadlineSeconds` from the asset's
 * timeout) and a Secret holding the step's files and secret values. The Job refers to the
 * Secret only by name (`secretKeyRef`, a read-only 0400 volume): no secret value is ever in
 * the Job or pod spec. The Secret is owned by the Job, so it goes when the Job goes.
 */
import type { V1Container, V1EnvVar, V1Job, V1PodSpec, V1Secret } from '@kubernetes/client-node';
import type { KubernetesSettingsDef } from '../../definitions/model.js';
import type { CommandSpec, LaunchStep } from '../spec.js';
import { SPEC_FILES_DIR } from '../spec.js';
import { ASSET_KEY_ANNOTATION, CONTAINER, LABELS, MANAGED_BY, assetLabel, jobName } from './names.js';
import { stepSettings } from './settings.js';

/** The mode of the mounted files: readable by their owner only. */
export const FILE_MODE = 0o400;
const FILES_VOLUME = 'runner-files';

/** The Job and Secret of one attempt. */
export interface StepObjects {
  name: string;
  job: V1Job;
  secret: V1Secret;
}

/** Builds the objects of one attempt; throws when no image is known. */
export function buildStepObjects(spec: CommandSpec, step: LaunchStep, o: ManifestOptions): StepObjects {
  const { settings } = o;
  const s = stepSettings(settings, step.asset, spec.image);
  if (!s.image) throw new Error(`asset \`${step.asset.key}\`: no container image: set environments.${o.envName}.kubernetes.image (or the asset's kubernetes.image)`);
  const name = jobName(step.runId, step.asset.key, step.attempt);
  const labels: Record<string, string> = {
    ...(settings.labels ?? {}),
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.runId]: step.runId,
    [LABELS.asset]: assetLabel(step.asset.key),
    [LABELS.attempt]: String(step.attempt),
    [LABELS.env]: o.envName,
  };
  const annotations = { [ASSET_KEY_ANNOTATION]: step.asset.key };
  const meta = { name, ...(o.namespace ? { namespace: o.namespace } : {}), labels, annotations };

  const data: Record<string, string> = {};
  const env: V1EnvVar[] = Object.entries(spec.env).map(([k, value]) => ({ name: k, value }));
  for (const [k, value] of Object.entries(spec.secretEnv)) {
    data[`env.${k}`] = value;
    env.push({ name: k, valueFrom: { secretKeyRef: { name, key: `env.${k}` } } });
  }
  for (const f of spec.files) data[`file.${f.name}`] = f.content;

  const container: V1Container = {
    name: CONTAINER,
    image: s.image,
    ...(settings.image_pull_policy ? { imagePullPolicy: settings.image_pull_policy } : {}),
    command: [...spec.argv],
    ...(spec.workingDir ? { workingDir: spec.workingDir } : {}),
    ...(env.length > 0 ? { env } : {}),
    ...(s.resources.requests || s.resources.limits ? { resources: s.resources } : {}),
    ...(spec.files.length > 0 ? { volumeMounts: [{ name: FILES_VOLUME, mountPath: SPEC_FILES_DIR, readOnly: true }] } : {}),
  };
  const pod: V1PodSpec = {
    restartPolicy: 'Never',
    ...(settings.service_account ? { serviceAccountName: settings.service_account } : { automountServiceAccountToken: false }),
    ...(settings.fs_group !== undefined ? { securityContext: { fsGroup: settings.fs_group } } : {}),
    ...(settings.node_selector ? { nodeSelector: { ...settings.node_selector } } : {}),
    ...(settings.tolerations?.length
      ? {
          tolerations: settings.tolerations.map((t) => ({
            ...(t.key !== undefined ? { key: t.key } : {}),
            ...(t.operator ? { operator: t.operator } : {}),
            ...(t.value !== undefined ? { value: t.value } : {}),
            ...(t.effect ? { effect: t.effect } : {}),
            ...(t.toleration_seconds !== undefined ? { tolerationSeconds: t.toleration_seconds } : {}),
          })),
        }
      : {}),
    ...(settings.image_pull_secrets?.length ? { imagePullSecrets: settings.image_pull_secrets.map((n) => ({ name: n })) } : {}),
    containers: [container],
    ...(spec.files.length > 0
      ? { volumes: [{ name: FILES_VOLUME, secret: { secretName: name, defaultMode: FILE_MODE, items: spec.files.map((f) => ({ key: `file.${f.name}`, path: f.name, mode: FILE_MODE })) } }] }
      : {}),
  };
  const timeoutMs = step.asset.timeoutMs;
  const job: V1Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta,
    spec: {
      // Created suspended: it starts once its Secret exists (see launcher.ts).
      ...(o.suspend ? { suspend: true } : {}),
      backoffLimit: 0,
      podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] },
      ...(timeoutMs !== undefined ? { activeDeadlineSeconds: Math.max(1, Math.ceil(timeoutMs / 1000)) } : {}),
      ttlSecondsAfterFinished: s.ttlSeconds,
      template: { metadata: { labels: { ...labels }, annotations: { ...annotations } }, spec: pod },
    },
  };
  const secret: V1Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { ...meta, labels: { ...labels }, annotations: { ...annotations } }, type: 'Opaque', immutable: true, stringData: data };
  return { name, job, secret };
}

/** What {@link buildStepObjects} needs besides the spec and the step. */
export interface ManifestOptions {
  settings: KubernetesSettingsDef;
  envName: string;
  /** The namespace (absent: the one the objects are applied to). */
  namespace?: string;
  /** Create the Job suspended (the launcher resumes it once the Secret exists). */
  suspend?: boolean;
}

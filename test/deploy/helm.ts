/**
 * The real `helm` for the chart tests: the binary scripts/peers/helm.mjs builds into the
 * peers cache at the version of test/peers/versions.json, and `helm template` /
 * `helm lint` of deploy/helm with given values.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { peersCacheDir } from '../support/peers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The chart's folder. */
export const CHART = path.join(root, 'deploy/helm');

/** The pinned helm version. */
export const HELM_VERSION = (JSON.parse(readFileSync(path.join(root, 'test/peers/versions.json'), 'utf8')) as { helm: string }).helm;

/** The helm binary (scripts/peers/helm.mjs's rule). */
export const HELM = path.join(peersCacheDir(), `helm-${HELM_VERSION}`, 'bin', 'helm');

/** Whether helm is installed; the message says how to install it when not. */
export function helmMissing(): string | undefined {
  return existsSync(HELM) ? undefined : `helm ${HELM_VERSION} is not in the peers cache (${HELM}): run \`node scripts/peers.mjs helm\``;
}

/** A Kubernetes object as rendered. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** What `helm template` made: the objects, or the exit code and message of a refusal. */
export interface Rendered {
  exitCode: number;
  stderr: string;
  /** The raw YAML stream. */
  text: string;
  objects: Manifest[];
}

/** `helm <args>` with a values file of `values` (helm's own HOME/cache dirs in a temp folder). */
async function helm(args: string[], values: object) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'runner-helm-'));
  try {
    const file = path.join(tmp, 'values.yaml');
    writeFileSync(file, JSON.stringify(values));
    const env = { HELM_CACHE_HOME: path.join(tmp, 'cache'), HELM_CONFIG_HOME: path.join(tmp, 'config'), HELM_DATA_HOME: path.join(tmp, 'data') };
    return await execa(HELM, [...args, '-f', file], { env, reject: false });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Renders the chart as release `runner` in namespace `data-platform`. */
export async function renderChart(values: object = {}, o: { release?: string; namespace?: string } = {}): Promise<Rendered> {
  const r = await helm(['template', o.release ?? 'runner', CHART, '--namespace', o.namespace ?? 'data-platform'], values);
  const objects = r.exitCode === 0 ? parseAllDocuments(r.stdout).map((d) => d.toJS() as Manifest).filter((o) => o !== null) : [];
  return { exitCode: r.exitCode ?? -1, stderr: r.stderr, text: r.stdout, objects };
}

/** `helm lint --strict` of the chart with `values`. */
export async function lintChart(values: object = {}): Promise<{ exitCode: number; output: string }> {
  const r = await helm(['lint', '--strict', CHART], values);
  return { exitCode: r.exitCode ?? -1, output: `${r.stdout}\n${r.stderr}` };
}

/** The one object of `kind` (and `name`, when given). */
export function find(objects: Manifest[], kind: string, name?: string): Manifest {
  const hits = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (hits.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${hits.length}: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return hits[0]!;
}

/**
 * Validation of rendered objects against the Kubernetes API types of
 * @kubernetes/client-node: each object is deserialized into its model (V1Deployment, ...)
 * and serialized back. The models keep only the fields they declare, under their declared
 * types, so a misspelled or misplaced field vanishes in the round trip; what vanished is
 * returned as JSON paths.
 */
// Not re-exported by the package's index in 1.4.0; the package has no exports map, so the
// module is reachable by its path.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import type { Manifest } from './helm.js';

/** The client library's model of each apiVersion/kind the chart renders. */
export const MODELS: Record<string, string> = {
  'apps/v1/Deployment': 'V1Deployment',
  'v1/Service': 'V1Service',
  'v1/ServiceAccount': 'V1ServiceAccount',
  'v1/PersistentVolumeClaim': 'V1PersistentVolumeClaim',
  'v1/ConfigMap': 'V1ConfigMap',
  'v1/Secret': 'V1Secret',
  'rbac.authorization.k8s.io/v1/Role': 'V1Role',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'V1RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'V1ClusterRoleBinding',
  'networking.k8s.io/v1/Ingress': 'V1Ingress',
};

/** The model of an object, or undefined for a kind the library has no type of (a CRD). */
export function modelOf(obj: Manifest): string | undefined {
  return MODELS[`${obj.apiVersion}/${obj.kind}`];
}

/** The typed round trip of `obj`: the object as the model sees it. */
export function roundTrip(obj: Manifest, model: string): unknown {
  const typed: unknown = ObjectSerializer.deserialize(structuredClone(obj), model);
  return JSON.parse(JSON.stringify(ObjectSerializer.serialize(typed, model)));
}

/** JSON paths where `a` and `b` differ (a field that vanished, or changed type). */
export function differences(a: unknown, b: unknown, at = '$'): string[] {
  if (a === b) return [];
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return [`${at}: ${JSON.stringify(a)} became ${JSON.stringify(b)}`];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], Array.isArray(a) ? `${at}[${k}]` : `${at}.${k}`));
}

/** What the typed round trip of `obj` loses; throws for a kind without a model. */
export function lostInRoundTrip(obj: Manifest): string[] {
  const model = modelOf(obj);
  if (!model) throw new Error(`no @kubernetes/client-node model for ${obj.apiVersion} ${obj.kind}`);
  return differences(obj, roundTrip(obj, model));
}

// Every rendered object against the Kubernetes OpenAPI schemas (kubernetes-models). It checks
// types, enums and required fields but not unknown fields, so the chart tests assert the
// fields that matter one by one as well. Prometheus Operator kinds are not in kubernetes-models:
// they get a structural check of the fields the operator requires.
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { K8sObject } from './render-chart.js';

type Validating = new (data: never) => { validate(): void };

const MODELS: Record<string, Validating> = {
  'v1/ConfigMap': ConfigMap as unknown as Validating,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim as unknown as Validating,
  'v1/Pod': Pod as unknown as Validating,
  'v1/Service': Service as unknown as Validating,
  'v1/ServiceAccount': ServiceAccount as unknown as Validating,
  'apps/v1/DaemonSet': DaemonSet as unknown as Validating,
  'apps/v1/Deployment': Deployment as unknown as Validating,
  'apps/v1/StatefulSet': StatefulSet as unknown as Validating,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as unknown as Validating,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole as unknown as Validating,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding as unknown as Validating,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy as unknown as Validating,
};

/** Throws naming the object and the schema error; unknown kinds are errors too. */
export function validateObject(o: K8sObject): void {
  const key = `${o.apiVersion}/${o.kind}`;
  const where = `${key} ${o.metadata?.name}`;
  const Model = MODELS[key];
  if (Model) {
    try {
      new Model(o as never).validate();
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
    }
    return;
  }
  if (key === 'monitoring.coreos.com/v1/ServiceMonitor') return checkServiceMonitor(o, where);
  if (key === 'monitoring.coreos.com/v1/PrometheusRule') return checkPrometheusRule(o, where);
  throw new Error(`${where}: no schema known for this kind (add it to validate-objects.ts)`);
}

function checkServiceMonitor(o: K8sObject, where: string): void {
  const spec = o.spec as { selector?: { matchLabels?: object }; endpoints?: { port?: string; path?: string }[] } | undefined;
  if (!spec?.selector?.matchLabels) throw new Error(`${where}: spec.selector.matchLabels is required`);
  if (!spec.endpoints?.length || !spec.endpoints.every((e) => typeof e.port === 'string' && e.path?.startsWith('/'))) {
    throw new Error(`${where}: every endpoint needs a named port and a path`);
  }
}

function checkPrometheusRule(o: K8sObject, where: string): void {
  const spec = o.spec as { groups?: { name?: string; rules?: { alert?: string; expr?: unknown; for?: string }[] }[] } | undefined;
  for (const group of spec?.groups ?? []) {
    if (!group.name || !group.rules?.length) throw new Error(`${where}: a group needs a name and rules`);
    for (const rule of group.rules) {
      if (!rule.alert || typeof rule.expr !== 'string' || !rule.expr.trim()) throw new Error(`${where}: rule needs alert and expr`);
      if (rule.for !== undefined && !/^(\d+(ms|s|m|h|d|w|y))+$/.test(rule.for)) throw new Error(`${where}: ${rule.alert} for "${rule.for}"`);
    }
  }
  if (!spec?.groups?.length) throw new Error(`${where}: spec.groups is required`);
}

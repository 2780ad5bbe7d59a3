// What the collector knows of pods, for attribution: who a pod UID is, and which of its ports
// speak HTTP. Backed by the Kubernetes watch (pods, and EndpointSlices for appProtocol), or
// empty outside Kubernetes, where namespaces are known by their process names only.

import type { AppProtocolIndex } from '../kubernetes/app-protocol-index.js';
import { podHttpPorts } from '../kubernetes/app-protocol-index.js';
import type { PodIndex } from '../kubernetes/pod-index.js';
import type { PodInfo } from '../kubernetes/pod-info.js';

export interface PodDirectory {
  readonly enabled: boolean;
  pod(uid: string): PodInfo | undefined;
  httpPorts(pod: PodInfo): readonly number[];
  hostNetworkPods(node: string): PodInfo[];
}

export const NO_PODS: PodDirectory = {
  enabled: false,
  pod: () => undefined,
  httpPorts: () => [],
  hostNetworkPods: () => [],
};

export function kubernetesDirectory(pods: PodIndex, appProtocols?: AppProtocolIndex): PodDirectory {
  return {
    enabled: true,
    pod: (uid) => pods.get(uid),
    httpPorts: (pod) => podHttpPorts(pod, appProtocols),
    hostNetworkPods: (node) => pods.hostNetworkPods(node),
  };
}

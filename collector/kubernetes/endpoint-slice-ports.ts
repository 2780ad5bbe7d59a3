// Service ports that declare an HTTP application protocol, per pod, read from EndpointSlices.
// A Service port's appProtocol is copied by the EndpointSlice controller onto the slice's port,
// whose number is the resolved target port (the one the pod listens on), and each endpoint
// names its pod by uid. So no label selector has to be evaluated and no named targetPort
// resolved: the slice already did both. Not-ready endpoints count too: a pod that is not
// ready still listens, and its connections still need classifying.

import { asArray, asObject, str, uidOf } from './kube-object.js';

/**
 * appProtocol values that mean HTTP: the IANA names (http, https, h2c) and Kubernetes'
 * own kubernetes.io/h2c, kubernetes.io/ws and kubernetes.io/wss (WebSocket begins as HTTP/1.1).
 * Compared lower-case: the field is free text and "HTTP"/"HTTPS" occur in the wild.
 */
const HTTP_APP_PROTOCOLS = new Set(['http', 'https', 'h2c', 'kubernetes.io/h2c', 'kubernetes.io/ws', 'kubernetes.io/wss']);

export function isHttpAppProtocol(appProtocol: string): boolean {
  return HTTP_APP_PROTOCOLS.has(appProtocol.toLowerCase());
}

export interface SlicePorts {
  /** The EndpointSlice's uid. */
  uid: string;
  /** Uids of the pods its endpoints point at. */
  podUids: readonly string[];
  /** Sorted, unique TCP ports whose appProtocol is HTTP; empty when the slice has none. */
  ports: readonly number[];
}

/** An EndpointSlice object to SlicePorts; undefined without a uid. */
export function toSlicePorts(raw: unknown): SlicePorts | undefined {
  const slice = asObject(raw);
  const uid = uidOf(slice);
  if (!uid) return undefined;
  const ports = new Set<number>();
  for (const p of asArray(slice?.['ports'])) {
    const port = asObject(p);
    const number = port?.['port'];
    const protocol = str(port?.['protocol']) || 'TCP';
    if (protocol !== 'TCP' || !isHttpAppProtocol(str(port?.['appProtocol']))) continue;
    if (typeof number === 'number' && Number.isInteger(number) && number > 0 && number < 65536) ports.add(number);
  }
  const podUids: string[] = [];
  if (ports.size > 0) {
    for (const e of asArray(slice?.['endpoints'])) {
      const target = asObject(asObject(e)?.['targetRef']);
      const podUid = str(target?.['uid']);
      if (str(target?.['kind']) === 'Pod' && podUid) podUids.push(podUid);
    }
  }
  return { uid, podUids, ports: [...ports].sort((a, b) => a - b) };
}

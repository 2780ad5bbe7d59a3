// containerIdentityOf on real /proc/<pid>/cgroup captures (test/fixtures/cgroup; sources in its
// README), one exact expectation per layout; then the rules no capture shows alone, and two
// properties: no input throws, and every layout rendered from a generated uid and id parses back.
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ContainerIdentity, ContainerRuntime, QosClass } from './cgroup-identity.js';
import { containerIdentityOf, identityOfCgroupPath } from './cgroup-identity.js';

const FIXTURES = new URL('../../test/fixtures/cgroup/', import.meta.url).pathname;

const EXPECTED: Record<string, ContainerIdentity | undefined> = {
  'host-this-machine-pid1.txt': undefined,
  // memory:/process_api/<32 hex>: this sandbox's own grouping, neither a pod nor a container.
  'host-this-machine-self.txt': undefined,
  'v1-cgroupfs-besteffort.txt': {
    podUid: '74c13223-5a00-11e9-b385-42010a80018d',
    containerId: '34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376',
    qosClass: 'besteffort',
  },
  'v1-cgroupfs-crio.txt': {
    podUid: '1d572999-c9f3-45bd-b378-9df614214da6',
    containerId: '87554950a53dd2ed856512d201cec166fa6c5dbab20186489d6a0e8c13c20586',
    runtime: 'cri-o',
    qosClass: 'besteffort',
  },
  'v1-cgroupfs-guaranteed.txt': {
    podUid: '6a6f0656-d640-11e8-a966-00505691e4af',
    containerId: '14a2191736e10e8023b36f851b47ea758c227d1feef40ce94f003ef08f87f841',
    qosClass: 'guaranteed',
  },
  'v1-cgroupfs-subcgroup-below-container.txt': {
    podUid: 'f8a694f2-7c08-11e9-98da-000c29077430',
    containerId: 'c04e0a88a1de067f25bece337d4dbb897396e0b623c2a65330850fc9823f1903',
    qosClass: 'besteffort',
  },
  'v1-containerd-slice-colon-form.txt': {
    podUid: '2105e389-7471-476e-a50f-6074cef29bbd',
    containerId: 'd3d8ccf5cca91931c6285c1d7472c413dd5a7700fddc0aa9f89a9ac7008b003e',
    runtime: 'containerd',
    qosClass: 'besteffort',
  },
  'v1-docker-cgroupfs.txt': {
    containerId: '31cb02944da7a12196a193cf0e0f6c226d7c453a1db62e65ba98287593a2ee30',
    runtime: 'docker',
  },
  'v1-docker-in-docker.txt': {
    containerId: 'ec08435e04266c5ba381fccbb829f626d11d8ddf5f8f547263c7a2d79ab4787a',
    runtime: 'docker',
  },
  'v1-docker-systemd.txt': {
    containerId: '9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d',
    runtime: 'docker',
  },
  'v1-kind-node-from-host.txt': {
    podUid: 'd8992f589d8dd12c4342376ccb459375', // a static pod: the config hash, kept as is
    containerId: 'ecbcea5cd29afb25ba519715e827cda9e66cd0a914207f49ce0a292a6aa84d66',
    runtime: 'containerd',
    qosClass: 'burstable',
  },
  'v1-minikube-crio-pause.txt': {
    podUid: '2ca4a155-3599-498d-bb9d-4446693fa3ea',
    containerId: '0ba8ac17e4e7a31fb82279503552fe94e64bab4745bf6fd2ff231e7c8ca8bed0',
    runtime: 'cri-o',
    qosClass: 'besteffort',
  },
  'v1-systemd-containerd-hybrid.txt': {
    podUid: 'dd1bf9d1-241d-47f5-8e25-12de83135812',
    containerId: 'f45298cd514d1930c4fe3afc4412e59547f7e3148fddd22ca33cefce046eb830',
    runtime: 'containerd',
    qosClass: 'besteffort',
  },
  'v1-systemd-crio-static-pod.txt': {
    podUid: '487a0dc6dccaeefbcfedba7a7ce1ca18',
    containerId: '7a1fd6fe8cdfbd44dc78c4cc85dad7031eaab4365801684cad0aabdeaf863f9e',
    runtime: 'cri-o',
    qosClass: 'burstable',
  },
  'v1-systemd-docker-besteffort.txt': {
    podUid: '045b1e35-7f13-11e7-ac42-0050568ffca0',
    containerId: 'b5b6f2da8008be266864f896f93789762b2ce50792114a5c5f2cc3315af0bc70',
    runtime: 'docker',
    qosClass: 'besteffort',
  },
  'v2-cgroupfs-burstable.txt': {
    podUid: 'bd445127-8720-434d-b38c-d308e9ff9b59',
    containerId: 'a6fa3112ac317b1f2e8986a1fb4b783add5cf3ee6b6c9947dc513a6984da88fb',
    qosClass: 'burstable',
  },
  'v2-cgroupns-own-container.txt': undefined,
  'v2-cgroupns-relative-docker.txt': {
    containerId: '1f1d6e2d4940ddac13abd421a2617992bf89f0e0f9a902ed58278c5f843e9ae7',
    runtime: 'docker',
  },
  'v2-cgroupns-relative-host-init.txt': undefined,
  'v2-cgroupns-relative-pod.txt': {
    podUid: 'fd698699-eabf-4c23-92ef-cf0bbdb78261',
    containerId: '2cc65c162ca1388b6b8d5ccfb701d22fc96675ccf8b2f1590c490c2c4039547f',
    runtime: 'docker',
    qosClass: 'besteffort',
  },
  'v2-crio-conmon-outside-pod.txt': undefined,
  'v2-docker-systemd.txt': {
    containerId: 'b176419186d75a44628851daf7841d3374a2ec56d0b038ee3bd1e0c6d331e5b1',
    runtime: 'docker',
  },
  'v2-init-scope.txt': undefined,
  'v2-kind-node-from-host.txt': {
    podUid: 'eab5a334-93fe-48a8-b139-9e8079c1f163',
    containerId: '99f3a16ea25b7724cb56a4f0c0df1113ad9474fbf5545bead97fd5c7f61c13f4',
    runtime: 'containerd',
    qosClass: 'besteffort',
  },
  'v2-kind-pause-sandbox.txt': {
    podUid: '1e597579-417e-482f-bf65-5fe170c3aebd',
    containerId: 'd7dfb4a21fe1703a8537e60d5af248af729315d187b24a538102d14874c8117d',
    runtime: 'containerd',
    qosClass: 'besteffort',
  },
  'v2-podman-rootless.txt': {
    containerId: 'f992ec4ed807f76e5e54c9c67d78f0a4105bf945420271c2558ba905e38d2108',
    runtime: 'podman',
  },
  'v2-system-service.txt': undefined,
  'v2-systemd-containerd-besteffort.txt': {
    podUid: '7fda01c4-0ece-403d-88b4-c371d66d132a',
    containerId: 'e58a24d4a722c99712cff74ef69d93311089584eb32617b3890e0dcb996133f1',
    runtime: 'containerd',
    qosClass: 'besteffort',
  },
  'v2-systemd-containerd-guaranteed.txt': {
    podUid: 'ea2e69b4-0bd4-48f0-b75f-cc7c79111027',
    containerId: '7ee34913fbefa6a0dbbdf1bbc302cc29a1bde3b83b8b9f2252a4d4360c373848',
    runtime: 'containerd',
    qosClass: 'guaranteed',
  },
  'v2-systemd-crio-burstable.txt': {
    podUid: '042efd86-1f3b-4f2f-8736-f31c58e95bbc',
    containerId: 'f33f47b0db740bb647cb3e7ac62d96c74966dbb99cbfaf4563bfd42d387e8b44',
    runtime: 'cri-o',
    qosClass: 'burstable',
  },
  // conmon watches container 32da98c8… from the pod slice; it is not that container.
  'v2-systemd-crio-conmon.txt': {
    podUid: '207aaad1-659f-4db8-88e0-46e0cdcc3004',
    runtime: 'cri-o',
    qosClass: 'burstable',
  },
  // The UUID in tmux-spawn-<uuid>.scope must not pass for a pod UID.
  'v2-user-session.txt': undefined,
};

describe('containerIdentityOf on real captures', () => {
  it('has an expectation for every fixture', () => {
    const files = readdirSync(FIXTURES).filter((name) => name.endsWith('.txt'));
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s', (name, expected) => {
    expect(containerIdentityOf(readFileSync(join(FIXTURES, name), 'utf8'))).toStrictEqual(expected);
  });
});

const UID = 'bd445127-8720-434d-b38c-d308e9ff9b59';
const ID = 'a6fa3112ac317b1f2e8986a1fb4b783add5cf3ee6b6c9947dc513a6984da88fb';
const NODE = '31cb02944da7a12196a193cf0e0f6c226d7c453a1db62e65ba98287593a2ee30';

describe('containerIdentityOf rules', () => {
  it('keeps a pod only as the direct parent of its container', () => {
    // A pod process in a minikube node (cgroupfs): the node container is further out.
    expect(identityOfCgroupPath(`/docker/${NODE}/kubepods/burstable/pod${UID}`)).toStrictEqual({
      podUid: UID,
      qosClass: 'burstable',
    });
    expect(identityOfCgroupPath(`/docker/${NODE}/kubepods/burstable/pod${UID}/${ID}`)).toStrictEqual({
      podUid: UID,
      containerId: ID,
      qosClass: 'burstable',
    });
    // Docker inside a pod's container: the inner container has no pod of its own.
    expect(identityOfCgroupPath(`/kubepods/burstable/pod${UID}/${NODE}/docker/${ID}`)).toStrictEqual({
      containerId: ID,
      runtime: 'docker',
    });
  });

  it('reports what a namespace-relative path still shows', () => {
    // Same QoS as the reader (cgroupfs): the QoS level is above the namespace root.
    expect(containerIdentityOf(`0::/../../pod${UID}/${ID}\n`)).toStrictEqual({ podUid: UID, containerId: ID });
    // Another container of the reader's own pod: the pod segment is above the root.
    expect(containerIdentityOf(`0::/../cri-containerd-${ID}.scope\n`)).toStrictEqual({
      containerId: ID,
      runtime: 'containerd',
    });
  });

  it('prefers the line that names most, then the unified hierarchy, name=systemd, memory, pids', () => {
    const other = 'ffffffff-8720-434d-b38c-d308e9ff9b59';
    expect(containerIdentityOf(`0::/\n4:memory:/kubepods/burstable/pod${UID}/${ID}\n`)?.podUid).toBe(UID);
    expect(containerIdentityOf(`9:cpu:/kubepods/pod${other}\n4:memory:/kubepods/pod${UID}/${ID}\n`)?.podUid).toBe(UID);
    expect(containerIdentityOf(`4:memory:/kubepods/pod${other}/${ID}\n0::/kubepods/pod${UID}/${ID}\n`)?.podUid).toBe(UID);
    expect(containerIdentityOf(`8:pids:/kubepods/pod${other}/${ID}\n1:name=systemd:/kubepods/pod${UID}/${ID}\n`)?.podUid)
      .toBe(UID);
  });

  it('accepts CRLF lines and colons in paths; rejects near-miss ids and uids', () => {
    expect(containerIdentityOf(`0::/kubepods/pod${UID}/${ID}\r\n`)?.containerId).toBe(ID);
    expect(containerIdentityOf(`0::/a:b/kubepods/pod${UID}/${ID}\n`)?.containerId).toBe(ID);
    expect(identityOfCgroupPath(`/kubepods/pod${UID}/${ID.slice(1)}`)).toStrictEqual({ podUid: UID, qosClass: 'guaranteed' });
    expect(identityOfCgroupPath(`/kubepods/pod${UID}/${ID.toUpperCase()}`)?.containerId).toBeUndefined();
    expect(identityOfCgroupPath(`/kubepods/pod${UID.replaceAll('-', '')}x/${ID}`)?.podUid).toBeUndefined();
    expect(identityOfCgroupPath('/kubepods.slice/kubepods-podbd445127_8720_434d_b38c_d308e9ff9b5.slice')).toBeUndefined();
    expect(containerIdentityOf(`x::/kubepods/pod${UID}/${ID}\n0:/kubepods/pod${UID}/${ID}\n`)).toBeUndefined();
  });
});

const HEX = fc.constantFrom(...'0123456789abcdef');
const hex = (length: number): fc.Arbitrary<string> => fc.string({ unit: HEX, minLength: length, maxLength: length });
/** Any UTF-16 code unit, lone surrogates included: what a bad read could hand over. */
const BMP = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));
const QOS = fc.constantFrom<QosClass>('guaranteed', 'burstable', 'besteffort');

/** Each layout as the kubelet and runtime write it, with the runtime its prefix names. */
const LAYOUTS: Record<string, { runtime?: ContainerRuntime; render: (p: Rendered) => string }> = {
  'v1 cgroupfs': { render: (p) => `11:memory:/${p.cgroupfsPod}/${p.id}\n1:name=systemd:/${p.cgroupfsPod}/${p.id}\n` },
  'v1 cgroupfs cri-o': { runtime: 'cri-o', render: (p) => `4:pids:/${p.cgroupfsPod}/crio-${p.id}\n3:rdma:/\n` },
  'v2 cgroupfs': { render: (p) => `0::/${p.cgroupfsPod}/${p.id}\n` },
  'v2 systemd containerd': { runtime: 'containerd', render: (p) => `0::/${p.systemdPod}/cri-containerd-${p.id}.scope\n` },
  'v2 systemd cri-o': { runtime: 'cri-o', render: (p) => `0::/${p.systemdPod}/crio-${p.id}.scope\n` },
  'v1 systemd docker': { runtime: 'docker', render: (p) => `10:devices:/${p.systemdPod}/docker-${p.id}.scope\n0::/\n` },
  'v1 slice colon form': {
    runtime: 'containerd',
    render: (p) => `5:pids:/system.slice/containerd.service/${p.podSlice}:cri-containerd:${p.id}\n`,
  },
  'v2 namespace-relative': { runtime: 'containerd', render: (p) => `0::/../../../${p.podSlice}/cri-containerd-${p.id}.scope\n` },
  'v2 kind node from host': {
    runtime: 'containerd',
    render: (p) => `0::/system.slice/docker-${p.outer}.scope/${p.kindPod}/cri-containerd-${p.id}.scope\n`,
  },
  'v1 minikube cgroupfs node': { render: (p) => `12:memory:/docker/${p.outer}/${p.cgroupfsPod}/${p.id}\n` },
};

interface Rendered {
  id: string;
  outer: string;
  cgroupfsPod: string;
  systemdPod: string;
  podSlice: string;
  kindPod: string;
}

function render(uid: string, qos: QosClass, id: string, outer: string): Rendered {
  const escaped = uid.replaceAll('-', '_');
  const level = qos === 'guaranteed' ? '' : `-${qos}`;
  const podSlice = `kubepods${level}-pod${escaped}.slice`;
  const qosSlice = qos === 'guaranteed' ? '' : `kubepods${level}.slice/`;
  return {
    id,
    outer,
    cgroupfsPod: `kubepods/${qos === 'guaranteed' ? '' : `${qos}/`}pod${uid}`,
    systemdPod: `kubepods.slice/${qosSlice}${podSlice}`,
    podSlice,
    kindPod: `kubelet.slice/kubelet-kubepods.slice/${qosSlice === '' ? '' : `kubelet-${qosSlice}`}kubelet-${podSlice}`,
  };
}

describe('containerIdentityOf properties', () => {
  it('never throws, and what it returns is well formed', () => {
    const fragment = fc.oneof(
      fc.constantFrom('0', '12', ':', '::', '/', '/..', '\n', '\r', 'kubepods', '.slice', '.scope', '-pod', 'pod', '_', '-'),
      fc.constantFrom('cri-containerd-', 'crio-', 'crio-conmon-', 'docker', 'name=systemd', 'memory', 'burstable'),
      fc.constantFrom(ID, NODE, UID, UID.replaceAll('-', '_'), ID.slice(0, 63)),
      fc.string({ unit: BMP, maxLength: 8 }),
    );
    // Whole segments, so that paths near the real ones reach the container and pod branches.
    const segment = fc.oneof(
      fc.constantFrom('..', 'docker', 'kubepods', 'burstable', `pod${UID}`, ID, `crio-conmon-${ID}.scope`),
      fc.constantFrom(`kubepods-besteffort-pod${UID.replaceAll('-', '_')}.slice`, `cri-containerd-${NODE}.scope`),
      fc.constantFrom(`kubepods-pod${UID.replaceAll('-', '_')}.slice:cri-containerd:${ID}`, 'x:y:z'),
      fragment,
    );
    const input = fc.oneof(
      fc.string({ unit: BMP }),
      fc.array(fragment, { maxLength: 60 }).map((parts) => parts.join('')),
      fc.array(fc.tuple(fc.constantFrom('0::', '4:memory:', '1:name=systemd:', 'x:'), fc.array(segment, { maxLength: 10 })), {
        maxLength: 4,
      }).map((lines) => lines.map(([prefix, path]) => `${prefix}/${path.join('/')}\n`).join('')),
    );
    let named = 0;
    fc.assert(
      fc.property(input, (text) => {
        const identity = containerIdentityOf(text);
        if (identity === undefined) return;
        named++;
        expect(identity.podUid !== undefined || identity.containerId !== undefined).toBe(true);
        if (identity.containerId !== undefined) expect(identity.containerId).toMatch(/^[0-9a-f]{64}$/);
        if (identity.podUid !== undefined) expect(identity.podUid).toMatch(/^([0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})$/);
      }),
      { numRuns: 1000 },
    );
    expect(named).toBeGreaterThan(100); // the checks above did run
  });

  it('parses back the uid, id, runtime and QoS of every layout', () => {
    const uid = fc.oneof(fc.uuid(), hex(32)); // 32 hex: a static pod's config hash
    fc.assert(
      fc.property(uid, QOS, hex(64), hex(64), fc.constantFrom(...Object.keys(LAYOUTS)), (podUid, qosClass, id, outer, name) => {
        const layout = LAYOUTS[name]!;
        const expected: ContainerIdentity = { podUid, containerId: id, qosClass };
        if (layout.runtime !== undefined) expected.runtime = layout.runtime;
        expect(containerIdentityOf(layout.render(render(podUid, qosClass, id, outer)))).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });
});

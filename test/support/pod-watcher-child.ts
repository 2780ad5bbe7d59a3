// Child process for the "nothing left behind" test: start a PodWatcher against the URL in
// argv[2], wait until its watch is open, stop it, print its stats, and return without calling
// process.exit. If any socket or timer outlived stop(), this process would not exit.

import { setTimeout as delay } from 'node:timers/promises';
import { explicitConfig } from '../../collector/kubernetes/kube-config.js';
import { PodWatcher } from '../../collector/kubernetes/pod-watcher.js';

const server = process.argv[2];
if (!server) throw new Error('usage: pod-watcher-child.ts <api server url>');
const watcher = new PodWatcher({ config: explicitConfig({ server, token: 't' }) });
await watcher.start();
while (watcher.stats().watches === 0) await delay(5);
// Let the watch response arrive, so stop() has an open stream and a pooled socket to end.
await delay(200);
await watcher.stop();
process.stdout.write(JSON.stringify({ stats: watcher.stats() }));

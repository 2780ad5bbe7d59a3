// `helm test`: ask the collector for /api/v1/summary until it answers for this cluster and,
// unless REQUIRE_LIVE_NODE=false, at least one agent has reported (the whole pipeline works:
// agent -> NATS or gRPC -> collector -> API). Env: COLLECTOR_URL, CLUSTER,
// REQUIRE_LIVE_NODE, WAIT_SECONDS, and API_TOKEN_FILE when the API wants a bearer token (an
// https URL's CA comes from NODE_EXTRA_CA_CERTS). Exit 0 on success, 1 with the last reason otherwise.
import { readFileSync } from 'node:fs';

const base = process.env.COLLECTOR_URL ?? 'http://127.0.0.1:7470';
const tokenFile = process.env.API_TOKEN_FILE;
const headers = tokenFile ? { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` } : {};
const cluster = process.env.CLUSTER ?? 'default';
const requireLive = process.env.REQUIRE_LIVE_NODE !== 'false';
const deadline = Date.now() + Number(process.env.WAIT_SECONDS ?? '120') * 1000;

async function check() {
  const response = await fetch(`${base}/api/v1/summary`, { headers, signal: AbortSignal.timeout(5000) });
  if (!response.ok) return `HTTP ${response.status}: ${(await response.text()).trim()}`;
  const summary = await response.json();
  if (summary.cluster !== cluster) return `cluster is "${summary.cluster}", expected "${cluster}"`;
  if (requireLive && !(summary.nodes?.live >= 1)) return `no live node yet (${JSON.stringify(summary.nodes)})`;
  console.log(`ok: cluster ${summary.cluster}, nodes ${JSON.stringify(summary.nodes)}, HTTP connections ${summary.httpConnections}`);
  return undefined;
}

for (;;) {
  let reason;
  try {
    reason = await check();
  } catch (err) {
    reason = `${err.message}${err.cause?.code ? ` (${err.cause.code})` : ''}`;
  }
  if (reason === undefined) process.exit(0);
  if (Date.now() > deadline) {
    console.error(`${base}/api/v1/summary: ${reason}`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 2000));
}

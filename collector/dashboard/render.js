// DOM rendering of the API's answers: tables and tiles, built with textContent only (node names
// and addresses come from agents, so nothing here is ever parsed as HTML).

const fmt = new Intl.NumberFormat('en-US');

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = String(text);
  if (className) td.className = className;
  return td;
}

function replaceRows(table, rows) {
  document.querySelector(`${table} tbody`).replaceChildren(...rows);
}

/** GET /api/v1/summary → the tiles. */
export function renderTotals(summary) {
  document.getElementById('cluster').textContent = summary.cluster;
  document.getElementById('total-http').textContent = fmt.format(summary.httpConnections);
  document.getElementById('nodes-live').textContent = fmt.format(summary.nodes.live);
  document.getElementById('nodes-stale').textContent = fmt.format(summary.nodes.stale);
}

/** GET /api/v1/nodes → one row per node; stale rows get a class and a badge naming the reason. */
export function renderNodes(nodes) {
  replaceRows(
    '#nodes',
    nodes.map((n) => {
      const tr = document.createElement('tr');
      tr.className = n.status;
      tr.dataset.node = n.name;
      const status = document.createElement('td');
      const badge = document.createElement('span');
      badge.className = `badge ${n.status}`;
      badge.textContent = n.status === 'stale' && n.staleReason ? `stale (${n.staleReason})` : n.status;
      status.append(badge);
      status.className = 'status';
      status.dataset.status = n.status;
      tr.append(cell(n.name, 'name'), status, cell(fmt.format(n.httpConnections), 'num count'), cell(n.namespaces, 'num'), cell(n.ageSeconds.toFixed(1), 'num'));
      return tr;
    }),
  );
}

/** Node details → the addresses with the most connections, summed over nodes and namespaces. */
export function renderRemotes(details, limit = 10) {
  const byKey = new Map();
  for (const d of details) {
    for (const ns of d.namespacesDetail ?? []) {
      for (const top of ns.topRemotes ?? []) {
        for (const r of top.remotes) {
          const key = `${r.address}|${top.port}`;
          const seen = byKey.get(key) ?? { address: r.address, port: top.port, count: 0 };
          seen.count += r.count;
          byKey.set(key, seen);
        }
      }
    }
  }
  const rows = [...byKey.values()].sort((a, b) => b.count - a.count).slice(0, limit);
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell('no remote addresses reported', 'muted');
    td.colSpan = 3;
    tr.append(td);
    replaceRows('#remotes', [tr]);
    return;
  }
  replaceRows(
    '#remotes',
    rows.map((r) => {
      const tr = document.createElement('tr');
      tr.append(cell(r.address, 'address'), cell(r.port, 'num'), cell(fmt.format(r.count), 'num'));
      return tr;
    }),
  );
}

/** GET /api/v1/alerts → the active ones; null when the collector has no alerts endpoint. */
export function renderAlerts(alerts) {
  const box = document.getElementById('alerts');
  if (alerts === null || alerts.active.length === 0) {
    box.className = 'muted';
    box.textContent = alerts === null ? 'no alerts (alerting is not enabled on this collector)' : 'no alerts';
    return;
  }
  box.className = '';
  box.replaceChildren(
    ...alerts.active.map((a) => {
      const div = document.createElement('div');
      div.className = 'alert';
      const where = `${a.scope.node ?? 'cluster'} port ${a.scope.port}`;
      const remotes = a.topRemotes.slice(0, 3).map((r) => `${r.address} (${r.count})`).join(', ');
      const kind = a.kind.replaceAll('_', ' ');
      const baseline = Number(a.baseline).toFixed(1);
      div.dataset.kind = a.kind;
      div.textContent = `${kind} on ${where} since ${new Date(a.startedAt).toLocaleTimeString()}: ${a.value} (baseline ${baseline}, threshold ${a.threshold})${remotes ? ` — top: ${remotes}` : ''}`;
      return div;
    }),
  );
}

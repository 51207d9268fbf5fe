// The dashboard's controls, served as /dashboard.js (plain JavaScript, no build step, nothing
// loaded from elsewhere). A button calls package.<op> on /rpc with the session cookie; the table
// is refreshed from container-list every POLL_MS, so a change made here, by another operator or
// by the reconciler shows without a reload. A row with a call in flight says so ("stopping…",
// its buttons disabled) and the refresh leaves it alone until the call answers; an error answer
// stays in the row's td.error until the row's next call.
'use strict';

const POLL_MS = 1500;

// Which buttons a state enables. Only a convenience: the API has the last word, and its refusal
// (a stop refused for dependents, say) shows in the row.
const CAN = {
  install: (s) => s === 'not-installed',
  start: (s) => s !== 'not-installed' && s !== 'running',
  stop: (s) => s === 'running' || s === 'starting',
  restart: (s) => s !== 'not-installed',
  update: (s) => s !== 'not-installed',
  uninstall: (s) => s !== 'not-installed',
};

const DOING = {
  install: 'installing',
  start: 'starting',
  stop: 'stopping',
  restart: 'restarting',
  update: 'updating',
  uninstall: 'uninstalling',
};

// Apps with a call in flight.
const busy = new Set();
// A refresh answered after a row's call began or ended may be older than the call's effect:
// each of those events ticks the clock, and a refresh only updates rows not touched since it
// asked.
let clock = 0;
const touched = new Map();

// Calls a JSON-RPC method: its result, or an Error with the error's message.
async function rpc(method, params) {
  const resp = await fetch('/rpc', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    credentials: 'same-origin',
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  let body;
  try {
    body = await resp.json();
  } catch (_) {
    throw new Error(`HTTP ${resp.status}`);
  }
  if (body.error) {
    // The session ended (it expired, or was logged out elsewhere).
    if (body.error.code === -32001) location.assign('/login');
    throw new Error(body.error.message);
  }
  return body.result;
}

function cell(row, name) {
  return row.querySelector(`td.${name}`);
}

function appOf(row) {
  return row.id.slice('app-'.length);
}

function setStatus(text) {
  document.getElementById('status').textContent = text;
}

// Enables the row's buttons its shown state allows, none while it has a call in flight.
function enable(row) {
  const state = cell(row, 'state').textContent;
  const off = busy.has(appOf(row));
  for (const b of row.querySelectorAll('button[data-app]')) {
    b.disabled = off || !CAN[b.className](state);
  }
}

// Shows an app's status from the API in its row; no status means not installed.
function show(row, app) {
  const state = app ? app.state : 'not-installed';
  cell(row, 'state').textContent = state;
  cell(row, 'health').textContent = app ? app.health : 'unknown';
  cell(row, 'started').textContent = (app && app.started_at) || '';
  cell(row, 'reason').textContent = (app && (app.reason || app.error)) || '';
  const ui = cell(row, 'ui');
  const open = ui.querySelector('a.open');
  if (state === 'running' && ui.dataset.href && !open) {
    const a = document.createElement('a');
    a.className = 'open';
    a.href = ui.dataset.href;
    a.textContent = 'open';
    ui.append(a);
  } else if (state !== 'running' && open) {
    open.remove();
  }
  enable(row);
}

async function refresh() {
  const asked = clock;
  try {
    const { apps } = await rpc('container-list', {});
    const byId = new Map(apps.map((a) => [a.id, a]));
    for (const row of document.querySelectorAll('tr[id^="app-"]')) {
      const id = appOf(row);
      if (!busy.has(id) && (touched.get(id) || 0) <= asked) show(row, byId.get(id));
    }
    setStatus('');
  } catch (e) {
    setStatus(`could not refresh: ${e.message}`);
  }
}

async function poll() {
  await refresh();
  setTimeout(poll, POLL_MS);
}

// Runs a row's button: package.<op>, after a confirm() for uninstall (whose purge is the row's
// "also delete its data" box).
async function act(button) {
  const id = button.dataset.app;
  const op = button.className;
  const row = document.getElementById(`app-${id}`);
  const params = { id };
  if (op === 'uninstall') {
    const purge = row.querySelector('input.purge').checked;
    const question = purge
      ? `Uninstall ${id} and delete its data?`
      : `Uninstall ${id}? Its data is kept.`;
    if (!confirm(question)) return;
    params.purge = purge;
  }
  busy.add(id);
  touched.set(id, ++clock);
  cell(row, 'error').textContent = '';
  cell(row, 'state').textContent = `${DOING[op]}…`;
  enable(row);
  try {
    await rpc(`package.${op}`, params);
  } catch (e) {
    cell(row, 'error').textContent = e.message;
  } finally {
    busy.delete(id);
    touched.set(id, ++clock);
  }
  await refresh();
}

document.querySelector('table').addEventListener('click', (e) => {
  const b = e.target.closest('button[data-app]');
  if (b && !b.disabled) act(b);
});

document.getElementById('logout').addEventListener('click', async () => {
  try {
    await rpc('auth.logout', {});
    location.assign('/login');
  } catch (e) {
    setStatus(`could not log out: ${e.message}`);
  }
});

document.querySelectorAll('tr[id^="app-"]').forEach(enable);
setTimeout(poll, POLL_MS);

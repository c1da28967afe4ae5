// The dashboard's calls to its server. Reads and actions go through the HTTP/JSON door (/v1/...,
// the google.api.http routes of the gRPC APIs, listed at /api/routes with the gRPC service of
// each service name): a method is named "service/Method" and its request's fields fill the
// route's path, then its query (GET) or its body (POST). Live answers come as server-sent events
// from /api/events. Answers are in the proto3 JSON mapping: lowerCamel names, int64 as text,
// enums by name.
import { describeFailure } from './words.js';

let session;
/** {services: {name: gRPC service}, routes: [{method, template, rpc, streaming}]}, asked for once. */
let table;
const routeTable = () => (table ??= fetch('/api/routes').then((r) => r.json()));

/** "scheduler/GetJob" → "/pipewright.scheduler.v1.Scheduler/GetJob". */
export async function rpcPath(method) {
  const [service, name] = method.split('/');
  const { services } = await routeTable();
  if (!services[service]) throw new Error(`no service ${service}`);
  return `/${services[service]}/${name}`;
}

/** {auth, user, scopes, csrf} of this browser's session. */
export async function getSession() {
  session ??= await fetch('/api/session', { headers: { accept: 'application/json' } }).then((r) => r.json());
  return session;
}

async function routeOf(method, verb) {
  const rpc = await rpcPath(method);
  const route = (await routeTable()).routes.find((r) => r.rpc === rpc && r.method === verb);
  if (!route) throw new Error(`The ${method.split('/')[0]} cannot be asked: the monitor has no address for it (MONITOR_SERVICES does not name it).`);
  return route;
}

const camel = (name) => name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

/** The route's path with its variables filled from fields, and the fields left over. */
function fillPath(template, fields) {
  const rest = { ...fields };
  const path = template.replace(/\{([^}=]+)(=[^}]*)?\}/g, (_, name) => {
    const key = camel(name);
    const value = rest[key];
    delete rest[key];
    return encodeURIComponent(String(value ?? ''));
  });
  return { path, rest };
}

export class ApiError extends Error {
  constructor(method, status, body) {
    super(describeFailure(method, body));
    this.status = status;
    this.code = body?.code;
    this.details = body?.message;
  }
}

async function answer(method, res) {
  const body = await res.json().catch(() => ({ message: `HTTP ${res.status}` }));
  if (res.ok) return body;
  if (res.status === 401 && (await getSession()).auth) location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  throw new ApiError(method, res.status, body);
}

/** Query string of a request's top-level fields; a list repeats its name. */
function query(fields) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || v === null || v === '') continue;
    for (const item of Array.isArray(v) ? v : [v]) q.append(k, String(item));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** A read method ("monitor/GetOverview") with its request's fields. */
export async function read(method, fields = {}) {
  const route = await routeOf(method, 'GET');
  const { path, rest } = fillPath(route.template, fields);
  return answer(method, await fetch(`${path}${query(rest)}`, { headers: { accept: 'application/json' } }));
}

/** A control method ("scheduler/CancelJob"); resolves to its answer, rejects with an ApiError saying in words why not. */
export async function act(method, request) {
  const { csrf } = await getSession();
  const route = await routeOf(method, 'POST');
  const { path } = fillPath(route.template, request);
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
    body: JSON.stringify(request),
  });
  return answer(method, res);
}

/** Ends the session. */
export async function logout() {
  const { csrf } = await getSession();
  await fetch('/logout', { method: 'POST', headers: { 'x-csrf-token': csrf } });
}

const liveBadge = () => document.getElementById('live');

/**
 * Live answers: subs is [{id, method, request}], handlers maps each id to a function of the
 * answer, or of {error} with the failure in words as error.message. Returns a function that stops them.
 */
export function live(subs, handlers) {
  const badge = liveBadge();
  if (badge) badge.hidden = false;
  let source;
  let stopped = false;
  void Promise.all(subs.map(({ method }) => rpcPath(method))).then((paths) => {
    if (stopped) return;
    const wire = subs.map(({ id, request }, i) => ({ id, rpc: paths[i], request }));
    source = new EventSource(`/api/events?subscribe=${encodeURIComponent(JSON.stringify(wire))}`);
    for (const { id, method } of subs) {
      source.addEventListener(id, (e) => {
        const data = JSON.parse(e.data);
        if (data.end) return;
        if (data.error) data.error.message = describeFailure(method, data.error);
        handlers[id](data);
      });
    }
    source.addEventListener('open', () => {
      const b = liveBadge();
      if (b) (b.textContent = 'live'), (b.className = 'live on');
    });
    source.addEventListener('error', () => {
      const b = liveBadge();
      if (b) (b.textContent = 'reconnecting'), (b.className = 'live off');
    });
  });
  return () => {
    stopped = true;
    source?.close();
  };
}

// The monitor's web dashboard on MONITOR_HTTP_PORT: the pages (Overview, Jobs, Stock runs,
// Orders, Consumer groups, Dead letters); their JSON reads and actions through the platform's
// HTTP/JSON door (/v1/..., the google.api.http routes of the monitor's, the scheduler's, the
// order aggregator's and the stock processor's gRPC APIs, forwarded over gRPC); and their live
// figures as server-sent events (/api/events, dashboard/events.ts). With gRPC authentication on,
// the dashboard asks for a token first (dashboard/session.ts) and every call it makes for the
// user carries that token; a request with its own Authorization header goes through as it is.
// Without it, only requests to the names it is known by are answered (dashboard/access.ts).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { grpc, grpcAuthOn, httpDoor, type CallCredentials, type Logger } from '@pipewright/platform';
import type { Config } from './config';
import { LiveReads } from './dashboard/events';
import { hostRefusal } from './dashboard/access';
import { crossSiteRefusal, LoginRefused, Sessions, sessionCookie, type Session } from './dashboard/session';
import { loadStaticFiles } from './dashboard/static';
import { bearer, UPSTREAMS, Upstreams } from './dashboard/upstream';

/** The pages: each is the same document, whose script draws the page its path names. */
const PAGES = /^\/(|jobs|jobs\/[^/]+|stocks|stocks\/[^/]+|stocks\/[^/]+\/screener|orders|groups|groups\/[^/]+|dead-letters)$/;
const MAX_LOGIN_BODY = 16 * 1024;
/** How often sessions unused for too long are ended, with their event streams. */
const EXPIRY_CHECK_MS = 60_000;
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

export interface DashboardDeps {
  config: Config;
  logger: Logger;
  /** The monitor's own credentials (GRPC_CALL_*): its channels, and its token for a dashboard without login. */
  calls: CallCredentials;
  /** The port the monitor's gRPC server listens on. */
  grpcPort: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS, ...headers }).end(JSON.stringify(body));
}

async function readLogin(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_LOGIN_BODY) throw new HttpError(413, 'the request is too large');
    chunks.push(chunk);
  }
  let token: unknown;
  try {
    token = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { token?: unknown }).token;
  } catch {
    throw new HttpError(400, 'the request must be JSON: {"token": "..."}');
  }
  if (typeof token !== 'string' || !token.trim()) throw new HttpError(400, 'token: is required');
  return token;
}

export async function startMonitorHttp(host: string, port: number, deps: DashboardDeps): Promise<{ port: number; close(): Promise<void> }> {
  const { config, logger, calls } = deps;
  const files = loadStaticFiles();
  const sessions = new Sessions(config, grpcAuthOn(config));
  const upstreams = new Upstreams(config, deps.grpcPort, calls);
  const door = httpDoor({ logger, services: [...upstreams.clients].map(([name, client]) => ({ name, client })) });
  const live = new LiveReads(upstreams, config.MONITOR_DASHBOARD_REFRESH);
  /** Who the calls are made for: the user's token, else the monitor's own credentials. */
  const metadataOf = (session: Session | undefined) => () => (session ? bearer(session.token) : calls.metadata());
  // What the pages call: the gRPC service of each upstream name, and the door's routes.
  const routes = JSON.stringify({ services: UPSTREAMS, routes: door.routes });

  const file = (res: ServerResponse, path: string) => {
    const f = files.get(path);
    if (!f) throw new HttpError(404, 'not found');
    res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-cache', ...SECURITY_HEADERS }).end(f.body);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const ownAuthorization = req.headers.authorization !== undefined;
    const session = sessions.of(req);
    const allowed = !sessions.required || session !== undefined || ownAuthorization;
    // Without a login, only the names the dashboard is known by, against DNS rebinding.
    if (!sessions.required) {
      const refused = hostRefusal(req, config.MONITOR_DASHBOARD_HOSTS);
      if (refused) throw new HttpError(421, refused);
    }

    if (method === 'GET' && files.has(path)) return file(res, path);
    if (path === '/login') {
      if (method === 'GET') return sessions.required ? file(res, '/assets/login.html') : void res.writeHead(303, { location: '/' }).end();
      if (method !== 'POST') throw new HttpError(405, 'GET or POST /login');
      const refused = crossSiteRefusal(req, undefined);
      if (refused) throw new HttpError(403, `refused: ${refused}`);
      const token = await readLogin(req);
      try {
        const s = await sessions.login(token);
        logger.info({ user: s.user, scopes: s.scopes }, 'dashboard login');
        return json(res, 200, { user: s.user, scopes: s.scopes }, { 'set-cookie': sessionCookie(s.id, req) });
      } catch (err) {
        if (!(err instanceof LoginRefused)) throw err;
        logger.warn({ reason: err.message, peer: req.socket.remoteAddress }, 'dashboard login refused');
        throw new HttpError(401, err.message);
      }
    }
    if (method === 'POST' && path === '/logout') {
      const refused = crossSiteRefusal(req, session);
      if (refused) throw new HttpError(403, `refused: ${refused}`);
      sessions.end(req);
      return json(res, 200, {}, { 'set-cookie': sessionCookie('', req, 0) });
    }
    if (method === 'GET' && path === '/api/session') {
      return json(res, 200, { auth: sessions.required, user: session?.user ?? '', scopes: session?.scopes ?? [], csrf: session?.csrf ?? '' });
    }
    if (method === 'GET' && PAGES.test(path)) {
      if (!allowed) return void res.writeHead(303, { location: `/login?next=${encodeURIComponent(path + url.search)}` }).end();
      return file(res, '/assets/index.html');
    }
    if (!allowed) throw new HttpError(401, 'log in first');
    if (method === 'GET' && path === '/api/routes') return void res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' }).end(routes);
    if (method === 'GET' && path === '/api/events') {
      let subs;
      try {
        subs = live.parse(url.searchParams.get('subscribe'));
      } catch (err) {
        throw new HttpError(400, (err as Error).message);
      }
      const stop = live.serve(req, res, subs, ownAuthorization ? () => forwarded(req) : metadataOf(session));
      // Calls made with a session's token stop when it ends.
      if (session && !ownAuthorization) res.on('close', sessions.onEnd(session, stop));
      return;
    }
    // The door: reads, and the actions (cancel, pause, resume, trigger, replay) of the pages.
    if (method !== 'GET' && !ownAuthorization) {
      const refused = crossSiteRefusal(req, session);
      if (refused) {
        if (path.startsWith('/v1/')) logger.warn({ method, path, user: session?.user, origin: req.headers.origin, reason: refused }, 'dashboard action refused as cross-site');
        throw new HttpError(403, `refused: ${refused}`);
      }
    }
    if (!ownAuthorization) {
      const token = metadataOf(session)().get('authorization')[0];
      if (typeof token === 'string') req.headers.authorization = token;
    }
    if (await door.handle(req, res)) {
      if (method !== 'GET') logger.info({ method, path, user: session?.user, status: res.statusCode }, 'dashboard action');
      return;
    }
    throw new HttpError(404, 'not found');
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.end();
      if (err instanceof HttpError) return json(res, err.status, { code: err.status === 401 ? grpc.status.UNAUTHENTICATED : undefined, message: err.message });
      logger.error({ err: (err as Error).message, url: req.url }, 'dashboard request failed');
      json(res, 500, { message: 'the dashboard failed to answer; see the monitor log' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as { port: number };
  const expiry = setInterval(() => sessions.expire(), EXPIRY_CHECK_MS).unref();
  logger.info({ url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/`, login: sessions.required }, 'dashboard listening');
  return {
    port: address.port,
    close: () =>
      new Promise((r) => {
        clearInterval(expiry);
        server.closeAllConnections();
        server.close(() => {
          upstreams.close();
          r();
        });
      }),
  };
}

/** The request's own Authorization header as call metadata. */
function forwarded(req: IncomingMessage): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', String(req.headers.authorization));
  return md;
}

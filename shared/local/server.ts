import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { maxBodyOf, RESPONSE_HEADERS, type HttpEvent } from '../http/with-http.ts';
import { logger } from '../logger.ts';
import { JWT_ACCESS, ROUTE_LIST, type Route } from '../topology.ts';
import { verifyJwt } from './jwt.ts';

type HttpHandler = (event: HttpEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
export type LoadHandler = (fn: string) => Promise<HttpHandler>;

const compiled = ROUTE_LIST.map((route) => ({
  route,
  regex: new RegExp(`^${route.path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`),
}));

/**
 * The local server's own limits; Node's defaults let one client hold a connection for minutes. In AWS, API Gateway
 * applies its own (it receives the whole request before any Lambda runs, 10 MB payloads, a 30 s integration timeout).
 */
export const SERVER_LIMITS = {
  headersTimeoutMs: 10_000,
  /** The whole request, headers and body: the backstop of `bodyDeadlineMs`. */
  requestTimeoutMs: 15_000,
  /** A body not complete this long after the server starts reading it is refused (408), its connection closed. */
  bodyDeadlineMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  /** No traffic either way on a socket for this long closes it, like API Gateway's 30 s integration timeout. */
  idleTimeoutMs: 30_000,
  maxConnections: 256,
  /** Per request: header count (Node's 16 KiB `maxHeaderSize` bounds their size), and requests per connection. */
  maxHeadersCount: 100,
  maxRequestsPerSocket: 1_000,
  /** After a refusal: how long, and how much of, what the client still sends is discarded before its connection is destroyed. */
  lingerMs: 2_000,
  lingerBytes: 16_384,
} as const;

type Match = { route: Route; params: Record<string, string> } | 'method' | 'encoding' | undefined;

const decode = (value: string) => {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
};

const match = (method: string, path: string): Match => {
  let pathMatched = false;
  for (const { route, regex } of compiled) {
    const m = regex.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.groups ?? {})) {
      const decoded = decode(v);
      if (decoded === undefined) return 'encoding';
      params[k] = decoded;
    }
    return { route, params };
  }
  return pathMatched ? 'method' : undefined;
};

/** Origin-form targets only (`/path?query`); anything `URL` cannot parse is the client's error, not ours. */
const parseTarget = (target: string | undefined) => {
  if (!target?.startsWith('/')) return undefined;
  try {
    return new URL(`http://local${target}`);
  } catch {
    return undefined;
  }
};

const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { ...RESPONSE_HEADERS, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers });
  res.end(text);
};

/**
 * Closing a socket with body bytes still unread makes the kernel send a reset, which can wipe our answer before the
 * client has read it; and without a reader, Node "dumps" an unread body after the answer (reads all of it, however
 * big). So a refused request discards (never buffers) at most `lingerBytes` and then stops reading, and its socket,
 * half-closed after the answer (Node's `destroySoon`), is destroyed when the client closes it or after `lingerMs`.
 */
const lingerOnRefusal = (req: IncomingMessage) => {
  let discarded = 0;
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > SERVER_LIMITS.lingerBytes) req.pause();
  });
  req.resume();
  const socket = req.socket;
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), SERVER_LIMITS.lingerMs).unref();
    socket.once('close', () => clearTimeout(timer));
  };
};

/** An answer given before (or instead of) reading the body: the connection is closed after it. */
const refuse = (req: IncomingMessage, res: ServerResponse, status: number, error: string, message: string) => {
  lingerOnRefusal(req);
  send(res, status, { error, message }, { connection: 'close' });
};

type Body = Buffer | 'too-large' | 'too-slow' | 'gone';

/** Reads at most `maxBytes` and stops reading (pauses) the moment the body is too big, too slow or gone. */
const readBody = (req: IncomingMessage, maxBytes: number, deadlineMs: number) =>
  new Promise<Body>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: Body) => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onGone).off('close', onGone);
      if (typeof result === 'string') req.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return finish('too-large');
      chunks.push(chunk);
    };
    const onEnd = () => finish(Buffer.concat(chunks));
    const onGone = () => finish('gone');
    const timer = setTimeout(() => finish('too-slow'), deadlineMs);
    req.on('data', onData).on('end', onEnd).on('error', onGone).on('close', onGone);
  });

const flatHeaders = (req: IncomingMessage) =>
  Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]));

export type Extra = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
/**
 * Checks a webhook delivery (or admission review) from its route, path parameters and headers, before its body is
 * read; a refusal's message answers 401. The handler checks again (API Gateway has no such pre-body hook).
 */
export type PreAuthorize = (route: Route, params: Record<string, string>, headers: Record<string, string>) => Promise<string | undefined>;

/**
 * The local stand-in for API Gateway: matches the route table, verifies the JWT as the authorizer would
 * (HS256 locally), turns the request into an API Gateway v2 event and calls the same handler Lambda runs.
 * Every refusal (bad URL or encoding, no route, no token, wrong webhook secret, a declared body too big) is answered
 * from the headers alone, without reading the body, and closes the connection. See `SERVER_LIMITS`.
 */
export const createLocalServer = (opts: { jwtSecret: string; loadHandler: LoadHandler; extra?: Extra; preAuthorize?: PreAuthorize }) => {
  const serve = async (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => {
    if (opts.extra && (await opts.extra(req, res))) return;
    const url = parseTarget(req.url);
    if (!url) return refuse(req, res, 400, 'BAD_REQUEST', 'the request target is not a valid URL path');
    const method = req.method ?? 'GET';
    const found = match(method, url.pathname);
    if (!found) return refuse(req, res, 404, 'NOT_FOUND', `no route ${url.pathname}`);
    if (found === 'method') return refuse(req, res, 405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}`);
    if (found === 'encoding') return refuse(req, res, 400, 'BAD_REQUEST', 'the path is not valid percent-encoding');
    const { route, params } = found;
    const headers = flatHeaders(req);

    let claims: Record<string, unknown> | undefined;
    if (JWT_ACCESS[route.access]) {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      claims = token ? verifyJwt(token, opts.jwtSecret) : undefined;
      if (!claims) return refuse(req, res, 401, 'UNAUTHORIZED', 'a valid bearer token is required');
    }
    const refusal = route.access === 'webhook' && opts.preAuthorize ? await opts.preAuthorize(route, params, headers) : undefined;
    if (refusal !== undefined) return refuse(req, res, 401, 'UNAUTHORIZED', refusal);
    const maxBytes = maxBodyOf(route);
    const tooLarge = `body is larger than ${maxBytes} bytes`;
    if (Number(req.headers['content-length'] ?? 0) > maxBytes) return refuse(req, res, 413, 'TOO_LARGE', tooLarge);

    // `Expect: 100-continue`: the client sends its body only once the checks above have passed.
    if (expectsContinue) res.writeContinue();
    const body = await readBody(req, maxBytes, SERVER_LIMITS.bodyDeadlineMs);
    // A client that resets or closes mid-body is its own business, not an error of ours.
    if (body === 'gone') return logger.debug('client closed the request before its body arrived', { path: url.pathname });
    if (body === 'too-large') return refuse(req, res, 413, 'TOO_LARGE', tooLarge);
    if (body === 'too-slow') return refuse(req, res, 408, 'REQUEST_TIMEOUT', `the body did not arrive within ${SERVER_LIMITS.bodyDeadlineMs / 1000} s`);

    const requestId = randomUUID();
    const event = {
      version: '2.0',
      routeKey: `${route.method} ${route.path}`,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
      pathParameters: Object.keys(params).length ? params : undefined,
      body: body.length ? body.toString('utf8') : undefined,
      isBase64Encoded: false,
      requestContext: {
        accountId: 'local',
        apiId: 'local',
        domainName: req.headers.host ?? 'localhost',
        domainPrefix: 'local',
        http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: req.socket.remoteAddress ?? '', userAgent: req.headers['user-agent'] ?? '' },
        requestId,
        routeKey: `${route.method} ${route.path}`,
        stage: '$default',
        time: new Date().toISOString(),
        timeEpoch: Date.now(),
        authorizer: { principalId: '', integrationLatency: 0, jwt: { claims: (claims ?? {}) as Record<string, string>, scopes: [] } },
      },
    } satisfies HttpEvent;
    const handler = await opts.loadHandler(route.fn);
    const result = await handler(event, { awsRequestId: requestId, functionName: route.fn } as Context);
    const resultHeaders = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
    res.writeHead(result.statusCode ?? 200, resultHeaders);
    res.end(result.body ?? '');
  };

  const run = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) =>
    serve(req, res, expectsContinue).catch((error: unknown) => {
      logger.error('local server error', { error: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) });
      if (!res.headersSent) refuse(req, res, 500, 'INTERNAL', 'internal error');
    });

  const server = createServer(
    {
      headersTimeout: SERVER_LIMITS.headersTimeoutMs,
      requestTimeout: SERVER_LIMITS.requestTimeoutMs,
      keepAliveTimeout: SERVER_LIMITS.keepAliveTimeoutMs,
      // Node checks the two timeouts above only this often (30 s by default).
      connectionsCheckingInterval: 1_000,
    },
    (req, res) => void run(req, res, false),
  );
  // Node would answer 100 Continue at once, before any check: the body would be sent only to be refused.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => void run(req, res, true));
  server.maxConnections = SERVER_LIMITS.maxConnections;
  server.maxHeadersCount = SERVER_LIMITS.maxHeadersCount;
  server.maxRequestsPerSocket = SERVER_LIMITS.maxRequestsPerSocket;
  server.setTimeout(SERVER_LIMITS.idleTimeoutMs);
  return server;
};

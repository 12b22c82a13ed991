import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { MAX_BODY_BYTES, type HttpEvent } from '../http/with-http.ts';
import { logger } from '../logger.ts';
import { ROUTES, type Route } from '../topology.ts';
import { verifyJwt } from './jwt.ts';

type HttpHandler = (event: HttpEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
export type LoadHandler = (fn: string) => Promise<HttpHandler>;

const compiled = ROUTES.map((route) => ({
  route,
  regex: new RegExp(`^${route.path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`),
}));

const match = (method: string, path: string): { route: Route; params: Record<string, string> } | 'method' | undefined => {
  let pathMatched = false;
  for (const { route, regex } of compiled) {
    const m = regex.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const params = Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]));
    return { route, params };
  }
  return pathMatched ? 'method' : undefined;
};

const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers });
  res.end(text);
};

const readBody = (req: IncomingMessage) =>
  new Promise<Buffer | 'too-large'>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });

export type Extra = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/**
 * The local stand-in for API Gateway: matches the route table, verifies the JWT as the authorizer would
 * (HS256 locally), turns the request into an API Gateway v2 event and calls the same handler Lambda runs.
 */
export const createLocalServer = (opts: { jwtSecret: string; loadHandler: LoadHandler; extra?: Extra }) =>
  createServer(async (req, res) => {
    try {
      if (opts.extra && (await opts.extra(req, res))) return;
      const url = new URL(req.url ?? '/', 'http://local');
      const method = req.method ?? 'GET';
      const found = match(method, url.pathname);
      if (!found) return send(res, 404, { error: 'NOT_FOUND', message: `no route ${url.pathname}` });
      if (found === 'method') return send(res, 405, { error: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed on ${url.pathname}` });
      const { route, params } = found;

      let claims: Record<string, unknown> | undefined;
      if (route.access === 'admin' || route.access === 'reader') {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        claims = token ? verifyJwt(token, opts.jwtSecret) : undefined;
        if (!claims) return send(res, 401, { error: 'UNAUTHORIZED', message: 'a valid bearer token is required' });
      }
      const body = await readBody(req);
      if (body === 'too-large') return send(res, 413, { error: 'TOO_LARGE', message: `body is larger than ${MAX_BODY_BYTES} bytes` });

      const requestId = randomUUID();
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]));
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
    } catch (error) {
      logger.error('local server error', { error: String(error) });
      if (!res.headersSent) send(res, 500, { error: 'INTERNAL', message: 'internal error' });
    }
  });

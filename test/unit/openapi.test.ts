import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openApiDocument } from '../../shared/http/openapi.ts';
import { ROUTE_LIST, ROUTES } from '../../shared/topology.ts';
import { ListImagesQuery } from '../../shared/usecases/selector.ts';
import { CreateSpaceInput } from '../../shared/usecases/spaces.ts';

const Operation = z.object({
  operationId: z.string(),
  summary: z.string(),
  tags: z.array(z.string()).length(1),
  'x-access': z.string(),
  'x-function': z.string(),
  parameters: z.array(z.object({ name: z.string(), in: z.enum(['path', 'query']), required: z.boolean(), schema: z.record(z.string(), z.unknown()) })),
  requestBody: z.object({ content: z.object({ 'application/json': z.object({ schema: z.record(z.string(), z.unknown()) }) }) }).optional(),
  responses: z.record(z.string(), z.object({ description: z.string() })),
  security: z.array(z.record(z.string(), z.array(z.string()))),
});
const Document = z.object({
  openapi: z.literal('3.1.0'),
  paths: z.record(z.string(), z.record(z.string(), Operation)),
  components: z.object({ schemas: z.record(z.string(), z.record(z.string(), z.unknown())) }),
});

describe('the OpenAPI document', () => {
  const doc = Document.parse(openApiDocument());
  const op = (method: string, path: string) => doc.paths[path]?.[method.toLowerCase()];

  it('has one operation per row of the route table, with its key as operationId, its access and its function', () => {
    const operations = Object.values(doc.paths).flatMap((methods) => Object.values(methods));
    expect(operations).toHaveLength(ROUTE_LIST.length);
    for (const [key, r] of Object.entries(ROUTES)) {
      expect(op(r.method, r.path), `${r.method} ${r.path}`).toMatchObject({ operationId: key, summary: r.doc.summary, tags: [r.doc.tag], 'x-access': r.access, 'x-function': r.fn });
    }
  });

  it('has no two rows on one method and path', () => {
    const keys = ROUTE_LIST.map((r) => `${r.method} ${r.path}`);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  it('documents the success status and every error status a row declares', () => {
    for (const r of ROUTE_LIST) {
      const statuses = Object.keys(op(r.method, r.path)?.responses ?? {});
      expect(statuses, `${r.method} ${r.path}`).toEqual(expect.arrayContaining([String(r.ok.status), ...(r.errors ?? []).map(String)]));
    }
  });

  it('declares exactly the path parameters of each path, all required, and a unique operation id', () => {
    for (const r of ROUTE_LIST) {
      const params = op(r.method, r.path)?.parameters.filter((p) => p.in === 'path') ?? [];
      expect(params.map((p) => p.name).sort(), `${r.method} ${r.path}`).toEqual([...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
      expect(params.every((p) => p.required)).toBe(true);
    }
    const ids = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((o) => o.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('asks for a token exactly on reader and admin routes (platform, workspace, registry), and documents their 401 and 403', () => {
    for (const r of ROUTE_LIST) {
      const o = op(r.method, r.path);
      const needsToken = r.access !== 'public' && r.access !== 'webhook';
      expect(o?.security.some((s) => 'bearer' in s), `${r.method} ${r.path}`).toBe(needsToken);
      if (needsToken) expect(Object.keys(o?.responses ?? {})).toEqual(expect.arrayContaining(['401', '403']));
    }
  });

  it('is generated from the schemas the handlers parse with', () => {
    const images = op('GET', '/api/v1/clusters/{cluster}/namespaces/{namespace}/images');
    const query = z.toJSONSchema(ListImagesQuery, { io: 'input' });
    const limit = images?.parameters.find((p) => p.name === 'limit');
    expect(limit).toMatchObject({ in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 } });
    expect(images?.parameters.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(Object.keys(query.properties ?? {}));
    const createSpace = op('POST', '/api/v1/registries/{registryId}/spaces');
    expect(createSpace?.requestBody?.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/CreateSpaceInput' });
    const { $schema: _, ...expected } = z.toJSONSchema(CreateSpaceInput, { io: 'input' });
    expect(doc.components.schemas.CreateSpaceInput).toEqual(expected);
  });

  it('resolves every $ref to a component schema', () => {
    const refs = [...JSON.stringify(openApiDocument()).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(new Set(refs).size).toBeGreaterThan(15);
    expect(refs.filter((name) => !(name in doc.components.schemas))).toEqual([]);
  });
});

describe('the OpenAPI document of what people choose by', () => {
  const text = JSON.stringify(openApiDocument());
  type Schema = { properties?: Record<string, Schema & { description?: string }>; required?: string[] };
  /** Every object schema in the document that has a `latestTag`-like tag shape (tag, digest, pushedAt). */
  const tagShapes = (node: unknown, out: Schema[] = []): Schema[] => {
    if (!node || typeof node !== 'object') return out;
    const s = node as Schema;
    if (s.properties?.tag && s.properties.digest && s.properties.pushedAt) out.push(s);
    for (const v of Object.values(node)) tagShapes(v, out);
    return out;
  };

  it('documents size, platforms and scan, optional, on the tags and on the selector items’ latest tag', () => {
    const shapes = tagShapes(openApiDocument());
    // The tags answer's items and the images answer's `latestTag`.
    expect(shapes.length).toBeGreaterThanOrEqual(2);
    for (const s of shapes) {
      for (const k of ['size', 'platforms', 'scan']) expect(s.properties?.[k]?.description, k).toBeTruthy();
      expect(s.required ?? []).not.toEqual(expect.arrayContaining(['size']));
    }
    expect(text).toContain('the sum of its platforms’ images when known');
    expect(text).toContain('attestations left out');
    expect(text).toContain('Harbor only: the summary of the last vulnerability scan');
  });
});

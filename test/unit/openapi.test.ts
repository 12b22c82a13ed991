import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OPERATIONS, openApiDocument } from '../../shared/http/openapi.ts';
import { ROUTES } from '../../shared/topology.ts';
import { ListImagesQuery } from '../../shared/usecases/selector.ts';
import { CreateSpaceInput } from '../../shared/usecases/spaces.ts';

const Operation = z.object({
  operationId: z.string(),
  summary: z.string(),
  'x-undocumented': z.literal(true).optional(),
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

  it('has every route of the route table, documented (add new routes to OPERATIONS in shared/http/openapi.ts)', () => {
    const missing = ROUTES.filter((r) => !op(r.method, r.path)).map((r) => `${r.method} ${r.path}`);
    const undocumented = ROUTES.filter((r) => op(r.method, r.path)?.['x-undocumented']).map((r) => `${r.method} ${r.path}`);
    expect({ missing, undocumented }).toEqual({ missing: [], undocumented: [] });
    const operations = Object.values(doc.paths).flatMap((methods) => Object.keys(methods));
    expect(operations).toHaveLength(ROUTES.length);
  });

  it('documents no route that the route table does not have', () => {
    const routes = new Set(ROUTES.map((r) => `${r.method} ${r.path}`));
    expect(Object.keys(OPERATIONS).filter((k) => !routes.has(k))).toEqual([]);
  });

  it('declares exactly the path parameters of each path, all required, and a unique operation id', () => {
    for (const r of ROUTES) {
      const params = op(r.method, r.path)?.parameters.filter((p) => p.in === 'path') ?? [];
      expect(params.map((p) => p.name).sort(), `${r.method} ${r.path}`).toEqual([...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
      expect(params.every((p) => p.required)).toBe(true);
    }
    const ids = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((o) => o.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('asks for a token exactly on reader and admin routes (platform, workspace, registry), and documents their 401 and 403', () => {
    for (const r of ROUTES) {
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

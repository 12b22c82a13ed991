import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ALL_EVENTS, NamespaceBound, RegistrySyncRequested, SpaceUnbound, TagPushed } from '../../events/index.ts';
import { INDEXED_DETAIL_TYPES } from '../../shared/index/indexer.ts';
import { createEvent } from '../../shared/events/publisher.ts';
import { keys } from '../../shared/store/keys.ts';
import { RULES } from '../../shared/topology.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const sources = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
const context = { correlationId: 'c', now: new Date(0) };

describe('events', () => {
  it('name the item whose pending mark they clear when they are made, from their contract', () => {
    const tag = createEvent(TagPushed, { registryId: 'reg-000000000001', space: 's', path: 's/app', tag: 'v1', eventTime: 1, digest: `sha256:${'a'.repeat(64)}` }, context);
    expect(tag.detail.metadata.mark).toEqual(keys.tag('reg-000000000001', 's/app', 'v1'));
    // Typed by the contract: no parse needed to read the data.
    expect(tag.detail.data.digest).toBe(`sha256:${'a'.repeat(64)}`);
    expect(createEvent(SpaceUnbound, { registryId: 'reg-000000000001', space: 's', workspaceId: 'w' }, context).detail.metadata.mark).toEqual(keys.binding('reg-000000000001', 's', 'w'));
    expect(createEvent(NamespaceBound, { cluster: 'c', namespace: 'n', workspaceId: null }, context).detail.metadata.mark).toEqual(keys.namespace('c', 'n'));
    // Not a state change: no mark.
    expect(createEvent(RegistrySyncRequested, { registryId: 'reg-000000000001', reason: 'manual' }, context).detail.metadata).not.toHaveProperty('mark');
  });

  it('reach the bus only through the publisher', () => {
    const callers = [...sources('shared'), ...sources('functions')]
      .filter((file) => /\bbus\.put\(/.test(readFileSync(join(ROOT, file), 'utf8')))
      .map((file) => relative(ROOT, join(ROOT, file)));
    expect(callers).toEqual(['shared/events/publisher.ts']);
  });

  it('route to the indexer exactly the detail types it has a handler for', () => {
    const rule = RULES.find((r) => r.fn === 'index-changes');
    expect(rule?.detailTypes).toEqual(INDEXED_DETAIL_TYPES);
    for (const detailType of INDEXED_DETAIL_TYPES) expect(ALL_EVENTS.map((c) => c.detailType)).toContain(detailType);
  });
});

import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { IndexRow } from '../../shared/domain/model.ts';
import type { Claims } from '../../shared/http/claims.ts';
import { createStore } from '../../shared/store/index.ts';
import { keys } from '../../shared/store/keys.ts';
import { listImages } from '../../shared/usecases/selector.ts';
import { putNamespace, putWorkspace } from '../../shared/usecases/tenancy.ts';
import { ctx, testDeps } from '../helpers/deps.ts';
import { createTestTable } from '../helpers/table.ts';

const admin: Claims = { sub: 'admin', roles: ['platform-admin'], workspaces: [] };
const reader = (workspace: string): Claims => ({ sub: `reader-${workspace}`, roles: [], workspaces: [workspace] });
const AT = new Date(0).toISOString();

const row = (audience: string, path: string, host = 'h.test'): IndexRow => {
  const [space = '', ...rest] = path.split('/');
  return {
    audience,
    image: `${host}/${path}`,
    registryId: 'reg-000000000001',
    space,
    repository: rest.join('/'),
    path,
    visibility: audience === 'public' ? 'public' : 'private',
    tagCount: 1,
    latestTag: { tag: 'v1', digest: `sha256:${'0'.repeat(64)}`, pushedAt: AT },
    updatedAt: AT,
  };
};

type Table = Awaited<ReturnType<typeof createTestTable>>;

/**
 * Counts the items every Query (scanned) and BatchGet (keys asked) reads through the table's client, and the read
 * capacity DynamoDB reports for them.
 */
const countReads = (t: Table) => {
  const counter = { items: 0, capacity: 0 };
  t.table.db.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '';
      if (command !== 'QueryCommand' && command !== 'BatchGetItemCommand') return next(args);
      const input = args.input as { ReturnConsumedCapacity?: string; RequestItems?: Record<string, { Keys?: unknown[] }> };
      input.ReturnConsumedCapacity = 'TOTAL';
      const out = await next(args);
      const output = out.output as { ScannedCount?: number; ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] };
      counter.items += command === 'QueryCommand' ? (output.ScannedCount ?? 0) : Object.values(input.RequestItems ?? {}).reduce((n, r) => n + (r.Keys?.length ?? 0), 0);
      counter.capacity += [output.ConsumedCapacity ?? []].flat().reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
      return out;
    },
    { step: 'initialize', name: 'countReads' },
  );
  return counter;
};

/** Writes rows as new to their audience (with their postings), a few batches at a time. */
const seed = async (t: Table, rows: IndexRow[]) => {
  const chunks: IndexRow[][] = [];
  for (let i = 0; i < rows.length; i += 50) chunks.push(rows.slice(i, i + 50));
  for (let i = 0; i < chunks.length; i += 4) await Promise.all(chunks.slice(i, i + 4).map((c) => t.store.index.write(c, [], c)));
};

describe('selector search from postings, on DynamoDB Local', () => {
  let t: Table;
  let env: ReturnType<typeof testDeps>;
  const images = (rows: readonly IndexRow[]) => rows.map((r) => r.image);
  const search = async (audience: string, q: string, limit = 50, after?: string) => images(await t.store.index.search(audience, q, after, limit));
  const itemsAt = async (pk: string) => (await t.table.db.send(new QueryCommand({ TableName: t.table.name, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } }))).Items ?? [];
  const postingsAt = (audience: string, prefix: string) => itemsAt(keys.searchPostings(audience, prefix).pk);
  const spacePostingsAt = (audience: string, prefix: string) => itemsAt(keys.searchSpacePostings(audience, prefix).pk);

  beforeAll(async () => {
    t = await createTestTable(inject('dynamoEndpoint'));
    env = testDeps(t.store);
  });
  afterAll(() => t.drop());

  it('finds images by word prefix, several words in their order, and no longer inside a word', async () => {
    const rows = ['payments/api-gateway', 'payments/ledger', 'shared/api', 'shared/web'].map((p) => row('public', p));
    await t.store.index.write(rows, [], rows);
    expect(await search('public', 'pay')).toEqual(['h.test/payments/api-gateway', 'h.test/payments/ledger']);
    expect(await search('public', 'API')).toEqual(['h.test/payments/api-gateway', 'h.test/shared/api']);
    expect(await search('public', 'api gate')).toEqual(['h.test/payments/api-gateway']);
    expect(await search('public', 'api-gate')).toEqual(['h.test/payments/api-gateway']);
    expect(await search('public', 'gate pay')).toEqual([]);
    expect(await search('public', 'payments api')).toEqual(['h.test/payments/api-gateway']);
    expect(await search('public', 'pay gate')).toEqual([]);
    expect(await search('public', 'shared api')).toEqual(['h.test/shared/api']);
    expect(await search('public', 'payments web')).toEqual([]);
    expect(await search('public', 'ments')).toEqual([]);
    expect(await search('public', 'api gatex')).toEqual([]);
    expect(await search('public', ' -/. ')).toEqual(images(rows));
  });

  it('finds images by the words of their host, and by host words followed by the words of the path', async () => {
    const A = 'workspace:hosts';
    const rows = [row(A, 'payments/api', 'registry.example.com'), row(A, 'shared/web', 'registry.example.com'), row(A, 'team-a/web', '127.0.0.1:5000'), row(A, 'example/com', 'other.test')];
    await t.store.index.write(rows, [], rows);
    const [api, web, local, other] = images(rows);
    expect(await search(A, 'registry')).toEqual([api, web]);
    expect(await search(A, 'Example.COM')).toEqual([other, api, web].sort());
    expect(await search(A, 'com pay')).toEqual([api]);
    expect(await search(A, 'registry example com shared web')).toEqual([web]);
    expect(await search(A, '127.0.0.1:5000')).toEqual([local]);
    expect(await search(A, '5000 team a')).toEqual([local]);
    expect(await search(A, '0 1')).toEqual([local]);
    expect(await search(A, 'web')).toEqual([local, web].sort());
    expect(await search(A, 'example web')).toEqual([]);
    expect(await search(A, 'istry')).toEqual([]);
    // From a cursor: only what comes after it, from the host's range as from the postings.
    expect(await search(A, 'registry', 50, api)).toEqual([web]);
    expect(await search(A, 'example com', 1, other)).toEqual([api]);
  });

  it('reads the posting of a long word by its first MAX_PREFIX characters and checks the rest', async () => {
    const long = row('public', 'long/abcdefghijklmnopqrstuvwxyz');
    await t.store.index.write([long], [], [long]);
    expect(await search('public', 'abcdefghijklmnopqrst')).toEqual([long.image]);
    expect(await search('public', 'abcdefghijklmnopqrsX')).toEqual([]);
  });

  it('leaves the postings alone when a row is rewritten in place, and removes them with the row', async () => {
    const [gateway] = ['payments/api-gateway'].map((p) => row('public', p));
    if (!gateway) throw new Error('no row');
    await t.store.index.write([{ ...gateway, tagCount: 2 }], []);
    expect(await t.store.index.search('public', 'gateway', undefined, 5)).toMatchObject([{ image: gateway.image, tagCount: 2 }]);
    await t.store.index.write([], [gateway]);
    expect(await search('public', 'gateway')).toEqual([]);
    expect(await postingsAt('public', 'gateway')).toEqual([]);
    // A space's words have space postings, never removed with a row: `payments` still has its ledger.
    expect(await postingsAt('public', 'pay')).toEqual([]);
    expect((await spacePostingsAt('public', 'pay')).map((p) => p.range)).toEqual(['h.test/payments/']);
    expect(await search('public', 'pay')).toEqual(['h.test/payments/ledger']);
  });

  it('finds images by the words of their space from its range, page by page across spaces in their order', async () => {
    const spaces = ['qx-1', 'qx-10', 'qx-2', 'qx-z'];
    const rows = spaces.flatMap((s) => [`${s}/qalpha`, `${s}/qbeta`, `${s}/qgamma`].map((p) => row('public', p)));
    await seed(t, rows);
    const all = images(rows).sort();
    expect(await search('public', 'qx', 100)).toEqual(all);
    // Every page of 2 from the last image of the one before: the ranges after the cursor, in order, nothing twice.
    const paged: string[] = [];
    for (let after: string | undefined; ; ) {
      const page = await search('public', 'qx', 2, after);
      paged.push(...page);
      if (page.length < 2) break;
      after = page.at(-1);
    }
    expect(paged).toEqual(all);
    expect(await search('public', 'qx 1', 100)).toEqual(all.filter((i) => /\/qx-10?\//.test(i)));
    expect(await search('public', 'qx 2 qbeta')).toEqual(['h.test/qx-2/qbeta']);
    // One posting per prefix of the space's words, not one per image.
    expect((await spacePostingsAt('public', 'qx')).map((p) => p.range)).toEqual(spaces.map((s) => `h.test/${s}/`).sort());
    expect(await postingsAt('public', 'qx')).toEqual([]);
  });

  it('reads many candidates by one range where it covers them and by key past it, leaving out rows that are gone', async () => {
    const audience = 'workspace:mixed';
    const pad = (i: number) => String(i).padStart(2, '0');
    // Each match sits beside a row that does not match, so a range of as many rows as candidates covers half of them.
    const rows = Array.from({ length: 24 }, (_, i) => [row(audience, `mixed/k${pad(i)}-nah`), row(audience, `mixed/k${pad(i)}-zed`)]).flat();
    await seed(t, rows);
    const gone = rows.find((r) => r.image.endsWith('k03-zed'));
    if (!gone) throw new Error('no row');
    await t.table.db.send(new DeleteCommand({ TableName: t.table.name, Key: keys.indexRow(audience, gone.image) }));
    const zed = images(rows.filter((r) => r.image.endsWith('-zed') && r !== gone));
    expect(await search(audience, 'zed', 10)).toEqual(zed.slice(0, 10));
    expect(await search(audience, 'zed', 10, zed[9])).toEqual(zed.slice(10, 20));
    expect(await search(audience, 'zed', 100)).toEqual(zed);
  });

  it('deletes with a row the postings an earlier version wrote for its space words', async () => {
    const legacy = row('public', 'oldspace/app');
    await t.store.index.write([legacy], [], [legacy]);
    await t.table.db.send(new PutCommand({ TableName: t.table.name, Item: { ...keys.searchPosting('public', 'oldspace', legacy.image), entityType: 'SearchPosting', image: legacy.image } }));
    await t.store.index.write([], [legacy]);
    expect(await postingsAt('public', 'oldspace')).toEqual([]);
    expect(await search('public', 'oldspace')).toEqual([]);
  });

  it('skips a posting whose row is gone or unreadable, and reads on to fill the page', async () => {
    const rows = ['lost/a1', 'lost/a2', 'lost/a3', 'lost/a4', 'lost/a5'].map((p) => row('public', p));
    await t.store.index.write(rows, [], rows);
    await t.table.db.send(new DeleteCommand({ TableName: t.table.name, Key: keys.indexRow('public', 'h.test/lost/a1') }));
    await t.table.db.send(new PutCommand({ TableName: t.table.name, Item: { ...keys.indexRow('public', 'h.test/lost/a2'), entityType: 'IndexRow', image: 'h.test/lost/a2' } }));
    expect(await search('public', 'lost', 2)).toEqual(['h.test/lost/a3', 'h.test/lost/a4']);
    expect(await search('public', 'lost a', 2, 'h.test/lost/a4')).toEqual(['h.test/lost/a5']);
  });

  it('names the rows whose postings were lost, so repair can write them again', async () => {
    const rows = ['kept/one', 'kept/two'].map((p) => row('public', p));
    await t.store.index.write(rows, [], rows);
    expect(await t.store.index.missingPostings(rows)).toEqual([]);
    await t.table.db.send(new DeleteCommand({ TableName: t.table.name, Key: keys.searchPosting('public', 'tw', 'h.test/kept/two') }));
    expect(await search('public', 'tw')).toEqual([]);
    const missing = await t.store.index.missingPostings(rows);
    expect(images(missing)).toEqual(['h.test/kept/two']);
    await t.store.index.write([], [], missing);
    expect(await search('public', 'tw')).toEqual(['h.test/kept/two']);
    expect(await t.store.index.missingPostings(rows)).toEqual([]);
  });

  it('names the rows whose host item was lost, so repair can write it again', async () => {
    const lost = row('public', 'solo/app', 'lost-host.test');
    await t.store.index.write([lost], [], [lost]);
    expect(await search('public', 'lost host')).toEqual([lost.image]);
    await t.table.db.send(new DeleteCommand({ TableName: t.table.name, Key: keys.audienceHost('public', 'lost-host.test') }));
    // Read by a process that did not cache the answer before the item went behind its back.
    expect(images(await createStore(t.table).index.search('public', 'lost host', undefined, 50))).toEqual([]);
    expect(images(await t.store.index.missingPostings([lost]))).toEqual([lost.image]);
    await t.store.index.write([], [], [lost]);
    expect(await search('public', 'lost host')).toEqual([lost.image]);
  });

  it('names the rows of a space whose space posting was lost, so repair can write it again', async () => {
    const rows = ['lostspace/one', 'lostspace/two'].map((p) => row('public', p));
    await t.store.index.write(rows, [], rows);
    await t.table.db.send(new DeleteCommand({ TableName: t.table.name, Key: keys.searchSpacePosting('public', 'lostsp', 'h.test/lostspace/') }));
    expect(await search('public', 'lostsp')).toEqual([]);
    expect(images(await t.store.index.missingPostings(rows))).toEqual(images(rows));
    await t.store.index.write([], [], rows);
    expect(await search('public', 'lostsp')).toEqual(images(rows));
    expect(await t.store.index.missingPostings(rows)).toEqual([]);
  });

  it('pages a search through the selector with its cursor, across more matches than a page', async () => {
    const matching = Array.from({ length: 23 }, (_, i) => row('public', `many/svc-${String(i).padStart(2, '0')}`));
    const noise = Array.from({ length: 9 }, (_, i) => row('public', `many/web-${i}`));
    await seed(t, [...matching, ...noise]);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listImages('c1', 'nobody', { q: 'Many SVC', limit: 5, ...(cursor ? { cursor } : {}) }, admin, env.deps);
      expect(page.items.length).toBeLessThanOrEqual(5);
      seen.push(...page.items.map((i) => i.image));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(images(matching));
    // The same through a host word: from the host's range, page by page.
    const viaHost: string[] = [];
    do {
      const page = await listImages('c1', 'nobody', { q: 'test many svc', limit: 5, ...(cursor ? { cursor } : {}) }, admin, env.deps);
      viaHost.push(...page.items.map((i) => i.image));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(viaHost).toEqual(images(matching));
  });

  it('never shows a private image of workspace w2 to a w1 namespace, even through a posting under w1', async () => {
    for (const w of ['w1', 'w2']) await putWorkspace(w, {}, env.deps, ctx);
    await putNamespace('c1', 'ns-w1', { workspaceId: 'w1' }, env.deps, ctx);
    await putNamespace('c1', 'ns-w2', { workspaceId: 'w2' }, env.deps, ctx);
    const secret = row('workspace:w2', 'vault/secret-keeper');
    await t.store.index.write([secret], [], [secret]);
    // A stale posting under the wrong audience, even one that holds a whole row: it must lead nowhere, as only the
    // row read again from w1's own audience could be shown.
    const stale = { ...row('workspace:w1', 'vault/secret-keeper'), ...keys.searchPosting('workspace:w1', 'secret', secret.image), entityType: 'SearchPosting' };
    await t.table.db.send(new PutCommand({ TableName: t.table.name, Item: stale }));
    const found = async (ns: string, w: string, q: string) => (await listImages('c1', ns, { q, limit: 50 }, reader(w), env.deps)).items.map((i) => i.image);
    expect(await found('ns-w2', 'w2', 'secret')).toEqual([secret.image]);
    expect(await found('ns-w1', 'w1', 'secret')).toEqual([]);
    expect(await found('ns-w1', 'w1', 'vault')).toEqual([]);
    expect(await found('ns-w1', 'w1', 'h test')).not.toContain(secret.image);
    expect(await found('ns-w1', 'w1', 'h test vault')).toEqual([]);
    expect(await found('ns-w2', 'w2', 'h test vault')).toEqual([secret.image]);
  });
});

describe('what a search reads, at 200 and 2,000 images', () => {
  let t: Table;
  let reads: { items: number; capacity: number };
  const bulk = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => row('public', `b/s${from + i}`, 'h.t'));
  /** Items read (and capacity) for one search: a rare match, and a common one that fills a page of 50. */
  const cost = async (q: string) => {
    reads.items = reads.capacity = 0;
    const found = await t.store.index.search('public', q, undefined, 51);
    return { found: found.length, items: reads.items, capacity: reads.capacity };
  };

  beforeAll(async () => {
    t = await createTestTable(inject('dynamoEndpoint'));
    reads = countReads(t);
  });
  afterAll(() => t.drop());

  it('stays the same when the audience grows tenfold', async () => {
    const rare = row('public', 'r/needle-finder', 'h.t');
    await seed(t, [rare, ...bulk(0, 199)]);
    const small = { rare: await cost('needle'), common: await cost('s1'), host: await cost('h t'), page: await cost('') };
    await seed(t, bulk(199, 1999));
    const large = { rare: await cost('needle'), common: await cost('s1'), host: await cost('h t'), page: await cost('') };
    console.info('search reads at 200 → 2,000 images (items, capacity units):', JSON.stringify({ small, large }));
    expect(small.rare.found).toBe(1);
    expect(large.common.found).toBe(51);
    expect(large.rare.items).toBe(small.rare.items);
    expect(large.common.items).toBeLessThanOrEqual(small.common.items);
    expect(large.rare.items).toBeLessThan(10);
    // About three pages of postings and rows, the audience's hosts (one here) and the word's spaces.
    expect(large.common.items).toBeLessThanOrEqual(3 * 51 + 2);
    // A common word's candidates lie side by side: their rows are one Query, read like a page, not 51 keys.
    expect(large.common.capacity).toBeLessThanOrEqual(2 * large.page.capacity);
    // A host word matches every image: one range of the audience, read like a page.
    expect(large.host.found).toBe(51);
    expect(large.host.items).toBeLessThanOrEqual(small.host.items);
    expect(large.host.items).toBeLessThanOrEqual(3 * 51 + 1);
  });
});

describe('the page cache, on DynamoDB Local', () => {
  let t: Table;
  const page = async (audience: string, after?: string) => images([...(await t.store.index.page(audience, after, 51))]);
  const images = (rows: readonly IndexRow[]) => rows.map((r) => r.image);

  let reads: ReturnType<typeof countReads>;

  beforeAll(async () => {
    t = await createTestTable(inject('dynamoEndpoint'));
    reads = countReads(t);
  });
  afterAll(() => t.drop());

  it('answers a page read again from the cache, and follows every write to its audience at once', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => row('public', `cached/app-${String(i).padStart(2, '0')}`));
    await seed(t, rows);
    const first = await page('public');
    const queried = reads.items;
    expect(first).toHaveLength(51);
    expect(await page('public')).toEqual(first);
    // The second read was one small GetItem (the audience's version), no Query.
    expect(reads.items).toBe(queried);

    // A row withdrawn is gone from the very next read; a row added or changed is there.
    await t.store.index.write([], [{ audience: 'public', image: first[0] ?? '' }]);
    expect(await page('public')).not.toContain(first[0]);
    const added = row('public', 'cached/aaa');
    await t.store.index.write([added], [], [added]);
    expect((await page('public'))[0]).toBe('h.test/cached/aaa');
    const changed = { ...added, tagCount: 2 };
    await t.store.index.write([changed], []);
    expect((await t.store.index.page('public', undefined, 51))[0]?.tagCount).toBe(2);
    // Another audience's write leaves this audience's pages cached.
    const before = reads.items;
    await t.store.index.write([row('workspace:w', 'cached/private')], []);
    await page('public');
    expect(reads.items).toBe(before);
  });

  it('answers a search read again from the cache, and follows every write to its audience, postings given back included', async () => {
    const rows = ['found/kiwi-a', 'found/kiwi-b', 'found/other'].map((p) => row('public', p));
    await seed(t, rows);
    const search = async (q: string) => images(await t.store.index.search('public', q, undefined, 51));
    expect(await search('kiwi')).toEqual(['h.test/found/kiwi-a', 'h.test/found/kiwi-b']);
    const queried = reads.items;
    expect(await search('  KIWI ')).toEqual(['h.test/found/kiwi-a', 'h.test/found/kiwi-b']);
    // The same words again: one small GetItem (the audience's version), no Query.
    expect(reads.items).toBe(queried);
    expect(await search('kiwi a')).toEqual(['h.test/found/kiwi-a']);

    // A row withdrawn is gone from the very next search.
    await t.store.index.write([], [{ audience: 'public', image: 'h.test/found/kiwi-a' }]);
    expect(await search('kiwi')).toEqual(['h.test/found/kiwi-b']);
    // A posting lost (and so the row not found, an answer cached) and given back by repair (`fresh` without a
    // put) is found by the very next search.
    await t.table.db.send(new DeleteCommand({ TableName: t.table.name, Key: keys.searchPosting('public', 'kiw', 'h.test/found/kiwi-b') }));
    expect(await search('kiw')).toEqual([]);
    const kiwiB = rows[1];
    if (!kiwiB) throw new Error('no row');
    await t.store.index.write([], [], [kiwiB]);
    expect(await search('kiw')).toEqual(['h.test/found/kiwi-b']);
  });
});

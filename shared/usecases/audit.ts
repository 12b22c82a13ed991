import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { BusEvent } from '../../events/contract.ts';
import { AUDITED_DETAIL_TYPES, auditOf, expiryOf, type AuditAction, type AuditEntry, type AuditFact } from '../domain/audit.ts';
import { adminWorkspaces, isPlatformAdmin, type Caller } from '../domain/caller.ts';
import { RegistryId, SpaceName, WorkspaceId } from '../domain/model.ts';
import type { Ctx, Deps } from '../deps.ts';
import { badRequest, forbidden } from '../errors.ts';
import { logger } from '../logger.ts';

/** What writing the trail needs. */
export type AuditDeps = Pick<Deps, 'store' | 'clock' | 'auditTtlDays'>;

/** Logged, never thrown: the change is durable already, and its answer must not fail for its record. */
const writeEntries = async (deps: AuditDeps, entries: AuditEntry[]) => {
  try {
    await deps.store.audit.put(entries);
  } catch (error) {
    logger.error('audit entries not written', { error: String(error), entries: entries.slice(0, 20).map((e) => ({ action: e.action, id: e.id })), count: entries.length });
  }
};

/** Records a state change that publishes no event: who (`ctx`) did `action`, now. */
export const recordAudit = (deps: AuditDeps, ctx: Ctx, entry: AuditFact & { action: AuditAction }) => {
  const at = deps.clock().toISOString();
  return writeEntries(deps, [
    {
      id: randomUUID(),
      at,
      actor: ctx.actor,
      ...(ctx.operator ? { operator: ctx.operator } : {}),
      action: entry.action,
      target: entry.target,
      ...(entry.change ? { change: entry.change } : {}),
      requestId: ctx.correlationId,
      workspaces: [...new Set(entry.workspaces ?? [])].sort(),
      expiresAt: expiryOf(at, deps.auditTtlDays),
    },
  ]);
};

const RegistryRef = z.object({ registryId: z.string() });

/** The owner of each registry the events name (tombstones included: a removal concerns its owner too). */
const ownersOf = async (deps: AuditDeps, events: readonly BusEvent[]) => {
  const ids = [...new Set(events.flatMap((e) => RegistryRef.safeParse(e.detail.data).data?.registryId ?? []))];
  const registries = await Promise.all(ids.map((id) => deps.store.registries.getAny(id)));
  return new Map(registries.flatMap((r) => (r?.ownerWorkspaceId ? [[r.id, r.ownerWorkspaceId] as const] : [])));
};

/**
 * Records the state changes among `events` (`auditOf`), before they go on the bus: a process that dies in between
 * leaves the change's pending mark, and the sweep's re-emission records it again (same item). Never throws.
 */
export const auditEvents = async (deps: AuditDeps, events: readonly BusEvent[]) => {
  const audited = events.filter((e) => AUDITED_DETAIL_TYPES.includes(e.detailType));
  if (!audited.length) return;
  try {
    const owners = await ownersOf(deps, audited);
    const entries = audited.flatMap((e) => auditOf(e, deps.auditTtlDays, owners.get(RegistryRef.safeParse(e.detail.data).data?.registryId ?? '')) ?? []);
    await writeEntries(deps, entries);
  } catch (error) {
    logger.error('audit entries not written', { error: String(error), events: audited.slice(0, 20).map((e) => ({ detailType: e.detailType, id: e.detail.metadata.id })), count: audited.length });
  }
};

export const ListAuditQuery = z.strictObject({
  since: z.iso.datetime({ offset: true }).optional().describe('only entries at or after this time'),
  until: z.iso.datetime({ offset: true }).optional().describe('only entries before this time'),
  registryId: RegistryId.optional(),
  space: SpaceName.optional(),
  workspaceId: WorkspaceId.optional().describe('only entries that concern this workspace'),
  actor: z.string().min(1).max(300).optional().describe('a token `sub`, `registry:<id>` or a job’s name'),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(512).optional().describe('`nextCursor` of the previous page'),
});
export type ListAuditQuery = z.infer<typeof ListAuditQuery>;

/** Items read per request at most, and days (that hold entries) finished: a sparse filter answers a cursor, never scans on. */
const MAX_READS = 1000;
const MAX_DAYS = 31;
const QUERY_LIMIT = 200;
/** Entries of other processes may be this far ahead of this one's clock. */
const CLOCK_MARGIN_MS = 5 * 60_000;

/**
 * A position is an exclusive upper bound on a day partition's sort keys: `<day>T~` (the whole day: `~` sorts after
 * every time) or an entry's sort key `<ISO time>#<id>`. Its first 10 characters name the day.
 */
const Position = z.string().regex(/^\d{4}-\d{2}-\d{2}T(?:~|\d{2}:\d{2}:\d{2}\.\d{3}Z(?:#[A-Za-z0-9-]{1,64})?)$/);
const CursorBody = z.strictObject({ b: Position });

const dayEnd = (day: string) => `${day}T~`;
const earlier = (a: string, b: string) => (a < b ? a : b);
const isDay = (day: string) => !Number.isNaN(Date.parse(`${day}T00:00:00.000Z`)) && new Date(`${day}T00:00:00.000Z`).toISOString().startsWith(day);

const encodeCursor = (b: string) => Buffer.from(JSON.stringify({ b })).toString('base64url');
const invalidCursor = () => badRequest('invalid query: cursor is not one this service gave', { issues: [{ path: 'cursor', message: 'is not a cursor of this listing' }] });
const decodeCursor = (cursor: string) => {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const parsed = CursorBody.safeParse(raw);
  if (!parsed.success || !isDay(parsed.data.b.slice(0, 10))) throw invalidCursor();
  return parsed.data.b;
};

/** The bounds of the walk: from `start` (exclusive) down to `floor` (an ISO time, inclusive). */
const boundsOf = (query: ListAuditQuery, deps: AuditDeps) => {
  const now = deps.clock().getTime();
  const since = query.since === undefined ? undefined : Date.parse(query.since);
  const until = query.until === undefined ? undefined : Date.parse(query.until);
  if (since !== undefined && until !== undefined && since > until) throw badRequest('invalid query: since is after until', { issues: [{ path: 'since', message: 'is after until' }] });
  // Entries past their TTL are skipped anyway: the walk never goes further back.
  const floor = new Date(Math.max(since ?? 0, now - deps.auditTtlDays * 86_400_000)).toISOString();
  const latest = dayEnd(new Date(now + CLOCK_MARGIN_MS).toISOString().slice(0, 10));
  const ceiling = until === undefined ? latest : earlier(new Date(until).toISOString(), latest);
  const start = query.cursor === undefined ? ceiling : earlier(decodeCursor(query.cursor), ceiling);
  return { start, floor, nowSeconds: Math.floor(now / 1000) };
};

/** Whom an entry is shown to, and whether it passes the query's filters. */
const filterOf = (query: ListAuditQuery, caller: Caller) => {
  const mine = isPlatformAdmin(caller) ? undefined : adminWorkspaces(caller);
  if (mine && query.workspaceId !== undefined && !mine.includes(query.workspaceId)) throw forbidden(`you are not the admin of workspace ${query.workspaceId}`);
  return (e: AuditEntry) =>
    (!mine || e.workspaces.some((w) => mine.includes(w))) &&
    (query.registryId === undefined || e.target.registryId === query.registryId) &&
    (query.space === undefined || e.target.space === query.space) &&
    (query.workspaceId === undefined || e.workspaces.includes(query.workspaceId)) &&
    (query.actor === undefined || e.actor === query.actor);
};

/**
 * `GET /api/v1/audit`: who changed what, newest first. A platform admin sees every entry, a workspace admin those
 * that concern their workspaces (another workspace's filter: 403). Walks the days that hold entries from `until` (or
 * now) back to `since` (at most the TTL), reading at most `MAX_READS` items and finishing at most `MAX_DAYS` days per
 * request: a page may hold fewer than `limit` entries and still a `nextCursor` (null: nothing older matches).
 */
export const listAudit = async (query: ListAuditQuery, caller: Caller, deps: AuditDeps) => {
  const shown = filterOf(query, caller);
  const { start, floor, nowSeconds } = boundsOf(query, deps);
  const floorDay = floor.slice(0, 10);
  const items: AuditEntry[] = [];
  let position = start;
  let reads = 0;
  let days = 0;
  for (;;) {
    const day = position.slice(0, 10);
    if (day < floorDay) return { items, nextCursor: null };
    // The first day may hold no entry (no mark): its page is empty, and the marks lead on.
    const page = await deps.store.audit.dayPage(day, { before: position, limit: Math.min(QUERY_LIMIT, MAX_READS - reads) });
    reads += page.entries.length;
    for (const { sk, entry } of page.entries) {
      // A sort key starts with its entry's time: below the floor, so is everything after it.
      if (sk < floor) return { items, nextCursor: null };
      position = sk;
      // Local stores never delete by TTL, DynamoDB deletes late.
      if (entry && entry.expiresAt > nowSeconds && shown(entry)) items.push(entry);
      if (items.length === query.limit) return { items, nextCursor: encodeCursor(position) };
    }
    if (!page.more) {
      const next = await deps.store.audit.dayBefore(day);
      if (next === undefined || next < floorDay) return { items, nextCursor: null };
      position = dayEnd(next);
      days++;
    }
    if (reads >= MAX_READS || days >= MAX_DAYS) return { items, nextCursor: encodeCursor(position) };
  }
};

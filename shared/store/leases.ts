import * as z from 'zod';
import { logger } from '../logger.ts';
import { keys } from './keys.ts';
import type { TableOps } from './table.ts';

/** A pending mark the holder clears once its work is applied; `unbound`: the binding's tombstone goes with it. */
export const PendingRef = z.object({ pk: z.string(), sk: z.string(), id: z.string(), unbound: z.string().optional() });
export type PendingRef = z.infer<typeof PendingRef>;

/**
 * Work on one space: repositories to re-derive (`paths`), or the whole space, and the marks of the space-level
 * events it applies (a tag's mark is cleared from the tag read, so it needs no entry here).
 */
export type SpaceWork = { paths: string[]; whole: boolean; marks: PendingRef[] };

const NAMES = { '#owner': 'owner', '#until': 'until', '#paths': 'paths', '#count': 'pathCount', '#whole': 'whole', '#marks': 'marks' };
const WORK_ATTRIBUTES = '#paths, #count, #whole, #marks';
/** Marks of space-level events one lease item holds (a mark of the longest names is about 450 bytes). */
const MAX_HANDED_MARKS = 100;
/** The attribute names an update's expressions use (DynamoDB refuses unused ones). */
const namesOf = (...expressions: string[]) => Object.fromEntries(Object.entries(NAMES).filter(([name]) => expressions.some((e) => e.includes(name))));

const StoredWork = z.object({
  paths: z.set(z.string()).optional(),
  whole: z.boolean().optional(),
  marks: z.set(z.string()).optional(),
});

/** The work an item holds; an item that cannot be read asks for the whole space (nothing handed over is ever lost). */
const workOf = (raw: Record<string, unknown>): SpaceWork => {
  const parsed = StoredWork.safeParse(raw);
  if (!parsed.success) {
    logger.warn('index lease item unreadable: the whole space is re-derived', { pk: String(raw.pk ?? '?') });
    return { paths: [], whole: true, marks: [] };
  }
  const marks = [...(parsed.data.marks ?? [])].flatMap((m) => {
    try {
      return [PendingRef.parse(JSON.parse(m))];
    } catch {
      return [];
    }
  });
  return { paths: [...(parsed.data.paths ?? [])], whole: parsed.data.whole ?? false, marks };
};

/**
 * One holder at a time re-derives a space (two re-derivations of one space could interleave and leave a row the
 * truth withdrew), in both homes. A worker that finds the lease held hands its work to the holder instead of
 * waiting: the holder applies it after what it is doing, so events for one space coalesce. A holder renews its
 * lease while it lives; a holder that died stops holding after `leaseMs`, and the next one takes its work over.
 */
export const leasesRepository = (ops: TableOps) => {
  /** Gives the lease up if nothing was handed over (the item goes); false when work waits in it. */
  const release = (registryId: string, space: string, owner: string) =>
    ops.remove(keys.indexLease(registryId, space), {
      ConditionExpression: '#owner = :o AND attribute_not_exists(#paths) AND attribute_not_exists(#whole) AND attribute_not_exists(#marks)',
      ExpressionAttributeNames: namesOf('#owner #paths #whole #marks'),
      ExpressionAttributeValues: { ':o': owner },
    });
  return {
    release,

    /**
     * Takes the lease if it is free or expired; answers the work left in it (by a holder that died or gave up), or
     * false. An expiry that is not a number holds nobody (no hand-off is taken by it either): else the space would
     * be stuck for good.
     */
    acquire: async (registryId: string, space: string, owner: string, now: number, leaseMs: number): Promise<SpaceWork | false> => {
      const old = await ops.updateReturningOld(keys.indexLease(registryId, space), {
        UpdateExpression: `SET #owner = :o, #until = :u REMOVE ${WORK_ATTRIBUTES}`,
        ConditionExpression: 'attribute_not_exists(#owner) OR NOT attribute_type(#until, :number) OR #until < :now',
        ExpressionAttributeNames: namesOf(WORK_ATTRIBUTES, '#owner #until'),
        ExpressionAttributeValues: { ':o': owner, ':u': now + leaseMs, ':now': now, ':number': 'N' },
      });
      return old === false ? false : workOf(old);
    },

    /**
     * Hands work to the live holder; false when there is none (the caller then takes the lease). Past `maxPaths`
     * repositories, the work handed over becomes the whole space; past `MAX_HANDED_MARKS` marks, a mark is not
     * handed over but stays pending, and the sweep re-emits its event (the item stays below DynamoDB's 400 KB:
     * ~370 KB at worst, a local batch of 100 events of 255-character paths handed over at once).
     */
    handOff: async (registryId: string, space: string, work: SpaceWork, now: number, maxPaths: number): Promise<boolean> => {
      const key = keys.indexLease(registryId, space);
      const held = '#until >= :now';
      const marks = work.marks.length ? { ':m': new Set(work.marks.map((m) => JSON.stringify(m))), ':maxMarks': MAX_HANDED_MARKS } : undefined;
      const roomForMarks = marks ? ' AND (attribute_not_exists(#marks) OR size(#marks) < :maxMarks)' : '';
      const hand = (update: string, condition: string, values: Record<string, unknown>) =>
        ops.update(key, {
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: namesOf(update, condition),
          ExpressionAttributeValues: { ':now': now, ...values },
        });
      if (!work.whole && work.paths.length) {
        const update = `ADD #paths :p, #count :n${marks ? ', #marks :m' : ''}`;
        const condition = `${held} AND (attribute_not_exists(#count) OR #count < :max)${roomForMarks}`;
        if (await hand(update, condition, { ':p': new Set(work.paths), ':n': work.paths.length, ':max': maxPaths, ...marks })) return true;
      }
      if (marks && (await hand('SET #whole = :t ADD #marks :m', `${held}${roomForMarks}`, { ':t': true, ...marks }))) return true;
      return hand('SET #whole = :t', held, { ':t': true });
    },

    /**
     * The holder's next work, the lease renewed; or undefined, and the lease given up, when nothing was handed over.
     * Also undefined when the lease was lost (it expired and was taken: its new holder has the work).
     */
    take: async (registryId: string, space: string, owner: string, now: number, leaseMs: number): Promise<SpaceWork | undefined> => {
      if (await release(registryId, space, owner)) return undefined;
      const old = await ops.updateReturningOld(keys.indexLease(registryId, space), {
        UpdateExpression: `SET #until = :u REMOVE ${WORK_ATTRIBUTES}`,
        ConditionExpression: '#owner = :o',
        ExpressionAttributeNames: namesOf(WORK_ATTRIBUTES, '#owner #until'),
        ExpressionAttributeValues: { ':o': owner, ':u': now + leaseMs },
      });
      if (old === false) {
        logger.warn('index lease lost while held: its new holder applies what was handed over', { registryId, space });
        return undefined;
      }
      return workOf(old);
    },

    /** Extends a held lease; false when it is no longer this owner's. */
    renew: (registryId: string, space: string, owner: string, now: number, leaseMs: number) =>
      ops.update(keys.indexLease(registryId, space), {
        UpdateExpression: 'SET #until = :u',
        ConditionExpression: '#owner = :o',
        ExpressionAttributeNames: namesOf('#owner #until'),
        ExpressionAttributeValues: { ':o': owner, ':u': now + leaseMs },
      }),

    /** Gives the lease up and leaves what was handed over since the last `take` to the next holder. */
    abandon: (registryId: string, space: string, owner: string) =>
      ops.update(keys.indexLease(registryId, space), {
        UpdateExpression: 'REMOVE #owner, #until',
        ConditionExpression: '#owner = :o',
        ExpressionAttributeNames: namesOf('#owner #until'),
        ExpressionAttributeValues: { ':o': owner },
      }),
  };
};

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchesQuery, searchTokens } from '../../shared/domain/search-tokens.ts';
import { startEmbeddedStore } from '../../shared/local/embedded-store.ts';
import { createStore } from '../../shared/store/index.ts';
import { jitteryTable } from './jittery-table.ts';
import { useCaseDriver } from './model-drivers.ts';
import { admissionDivergences, runSteps, steps, WORKSPACES } from './model-run.ts';
import { createTestTable } from './table.ts';

/** Searches checked after each sequence: a space's word, a repository's word, words over both (see model-run's PATHS). */
const SEARCHES = ['s1', 'app', 'library x'];

/** A delay (ms) before each store call of a delivery, drawn from fast-check's seed so a failing run replays it. */
const storeDelays = fc.infiniteStream(fc.integer({ min: 0, max: 3 }), { noHistory: true });

/**
 * Declares the reference-model property over `runs` random sequences, on the in-memory embedded store through its
 * own transport (the runtime's store and client), its deliveries on a `jitteryTable`. Split over files so the runs
 * use both cores (vitest runs two files at a time); fast-check prints the seed on failure (the store's timing is not
 * replayed exactly: a failure may need a few tries).
 */
export const describeModelProperty = (part: string, runs: number) =>
  describe(`the service against a reference model of the rule (${part})`, () => {
    let embedded: Awaited<ReturnType<typeof startEmbeddedStore>>;
    beforeAll(async () => {
      embedded = await startEmbeddedStore({ tableName: 'bootstrap' });
    });
    afterAll(() => embedded.close());

    // The admission reviews take most of a run: 500 sequences needed ~6 min here with the grid on every sequence.
    it(`agrees on every namespace's selector and searches, every workspace's robot, every pull secret and every admission decision after ${runs} random sequences with duplicated, reordered, dropped, stalled and concurrent deliveries`, { timeout: 1_800_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(steps, storeDelays, async (sequence, delays) => {
          const t = await createTestTable(embedded.endpoint, embedded.documentClient);
          try {
            const jitter = jitteryTable(t.table, delays);
            const driver = useCaseDriver(createStore(jitter.table), jitter.worker);
            const { mismatches, revocations, namespaces, want, wantRobot, wantPullHosts, selectable } = await runSteps(driver, sequence);
            expect(mismatches).toEqual([]);
            expect(revocations).toEqual([]);
            for (const ns of namespaces) expect({ ns, items: await driver.selector(ns) }).toEqual({ ns, items: want(ns) });
            // A search shows what the selector shows, filtered by its words: from a repository's postings, a
            // space's range, both (the model states who may see an image; the product's own match filters it).
            for (const ns of namespaces)
              for (const q of SEARCHES) expect({ ns, q, items: await driver.selector(ns, q) }).toEqual({ ns, q, items: want(ns).filter((i) => matchesQuery(i.image, searchTokens(q))) });
            for (const w of WORKSPACES) expect({ w, robot: await driver.robotProjects(w) }).toEqual({ w, robot: wantRobot(w) });
            for (const ns of namespaces) expect({ ns, hosts: await driver.pullHosts(ns) }).toEqual({ ns, hosts: wantPullHosts(ns) });
            // Every other sequence (the reviews take most of a run), one spelling per (namespace, image), rotated by the
            // sequence's length: every spelling goes out in each such sequence, and the hundreds of them cover every pair.
            if (sequence.length % 2 === 0) expect(await admissionDivergences(driver, namespaces, selectable, sequence.length)).toEqual([]);
          } finally {
            await t.drop();
          }
        }),
        // MODEL_SHRINK=0: stop at the first failure (to time how soon a planted bug is found), without shrinking it.
        { numRuns: runs, ...(process.env.MODEL_SHRINK === '0' ? { endOnFailure: true } : {}) },
      );
    });
  });

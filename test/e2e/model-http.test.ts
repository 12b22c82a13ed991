import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';
import { httpDriver } from '../helpers/model-drivers.ts';
import { admissionDivergences, runSteps, steps, WORKSPACES } from '../helpers/model-run.ts';
import { eventually, startService, type Service } from '../helpers/service.ts';

const RUNS = Number(process.env.MODEL_HTTP_RUNS ?? 15);
describe('the reference-model property over HTTP, against the running service', () => {
  let svc: Service;
  const harbors: FakeHarbor[] = [];
  beforeAll(async () => {
    svc = await startService();
  });
  afterAll(async () => {
    await svc?.stop();
    for (const h of harbors) await h.close();
  });

  it(`agrees with the model on every namespace's selector, robot, pull secret and admission decision once the bus has delivered, over ${RUNS} sequences`, { timeout: 300_000 }, async () => {
    let seq = 0;
    // Harbor sends no tag-delete webhook, so those steps are only driven on the Docker Registry.
    const httpSteps = steps.map((list) => list.filter((s) => !(s.k === 'deleteTag' && s.reg === 'H')));
    await fc.assert(
      fc.asyncProperty(httpSteps, async (sequence) => {
        // Kept open until the end: a closed port could be reused, and a registry's host must be new.
        const harbor = await startFakeHarbor();
        harbors.push(harbor);
        const driver = httpDriver(svc, ++seq, harbor);
        const { mismatches, revocations, namespaces, want, wantRobot, wantPullHosts, selectable } = await runSteps(driver, sequence);
        expect(mismatches).toEqual([]);
        expect(revocations).toEqual([]);
        for (const ns of namespaces) {
          const same = async () => JSON.stringify(await driver.selector(ns)) === JSON.stringify(want(ns));
          // The bus delivers in the background; a loaded CI machine gets a few seconds before the verdict.
          await eventually(same, 5000).catch(() => undefined);
          expect({ ns, items: await driver.selector(ns) }).toEqual({ ns, items: want(ns) });
        }
        for (const w of WORKSPACES) {
          const same = async () => JSON.stringify(await driver.robotProjects(w)) === JSON.stringify(wantRobot(w));
          await eventually(same, 5000).catch(() => undefined);
          expect({ w, robot: await driver.robotProjects(w) }).toEqual({ w, robot: wantRobot(w) });
        }
        for (const ns of namespaces) expect({ ns, hosts: await driver.pullHosts(ns) }).toEqual({ ns, hosts: wantPullHosts(ns) });
        // The selectors agreed above, so the index has settled: admission reads the same rows, and the truth at once.
        expect(await admissionDivergences(driver, namespaces, selectable)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});

import { ROUTE_LIST, RULES, SCHEDULES, type FunctionAccess } from '../shared/topology.ts';
import { buildUiSync } from '../web/build.ts';

export type { SecretAction } from '../shared/topology.ts';

/** What a function gets at bundle time: free identifiers replaced (esbuild `inject`), each by a string value. */
export type Embed = () => Record<string, string>;

/** The functions whose bundle carries more than their code: the page and its assets are built into `get-ui`. */
export const EMBEDS: Readonly<Record<string, Embed>> = {
  'get-ui': () => ({ __DEPLOY_UI_ASSETS__: JSON.stringify(buildUiSync()) }),
};

const same = (a: FunctionAccess, b: FunctionAccess) =>
  a.table === b.table && a.publish === b.publish && [...(a.secrets ?? [])].sort().join() === [...(b.secrets ?? [])].sort().join();

/**
 * Least privilege per function, from the `iam` of its rows in `shared/topology.ts` (routes, rules, schedules). Rows
 * of one function that disagree stop the synth: one function has one role.
 */
export const functionAccess = (rows: readonly { fn: string; iam: FunctionAccess }[]): Readonly<Record<string, FunctionAccess>> => {
  const access: Record<string, FunctionAccess> = {};
  for (const { fn, iam } of rows) {
    const known = access[fn];
    if (known && !same(known, iam)) throw new Error(`the rows of function ${fn} in shared/topology.ts declare different access (iam): one function has one role`);
    access[fn] = known ?? iam;
  }
  return access;
};

export const FUNCTION_ACCESS = functionAccess([...ROUTE_LIST, ...RULES, ...SCHEDULES]);

export const accessOf = (fn: string): FunctionAccess => {
  const access = FUNCTION_ACCESS[fn];
  if (!access) throw new Error(`function ${fn} has no row in shared/topology.ts`);
  return access;
};

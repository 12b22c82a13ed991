import type { Deps } from '../../shared/deps.ts';
import { registerRegistry } from '../../shared/usecases/registries.ts';
import { ctx } from './deps.ts';

/** Registers a hosted Harbor at `harbor.test` through the use case, and answers the registry as stored. */
export const registerTestHarbor = async (deps: Deps) => {
  const reg = await registerRegistry({ name: 'h', kind: 'harbor', mode: 'hosted', url: 'https://harbor.test' }, deps, ctx);
  const stored = await deps.store.registries.get(reg.id);
  if (!stored) throw new Error('registry not stored');
  return stored;
};

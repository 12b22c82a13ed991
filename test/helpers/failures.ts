import { RegistryCallError } from '../../shared/registries/registry-error.ts';

/** The `RegistryCallError` a registry call fails with; any other outcome fails the test. */
export const failureOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RegistryCallError) return error;
    throw error;
  }
  throw new Error('expected a RegistryCallError, the call succeeded');
};

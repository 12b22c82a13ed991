import type { Credentials, RegistryKind, RegistryStatus } from '../domain/model.ts';
import { DomainError } from '../errors.ts';
import { createDistributionClient } from './distribution-client.ts';
import { createHarborClient, RegistryCallError } from './harbor-client.ts';

/** How to reach one registry. */
export type RegistryTarget = { kind: RegistryKind; url: string; credentials?: Credentials };

/** The calls use cases make to registries (an adapter over the Harbor and distribution clients). */
export type RegistryApi = {
  probe(target: RegistryTarget): Promise<{ status: RegistryStatus; message?: string }>;
  createProject(target: RegistryTarget, name: string, isPublic: boolean): Promise<'created' | 'existed'>;
  setProjectPublic(target: RegistryTarget, name: string, isPublic: boolean): Promise<void>;
  deleteProject(target: RegistryTarget, name: string): Promise<void>;
};

const harbor = (t: RegistryTarget) => createHarborClient({ url: t.url, credentials: t.credentials });

/** Turns a registry's refusal or absence into the domain's errors (502 / 503 at the HTTP edge). */
export const upstream = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof RegistryCallError)) throw error;
    const code = error.kind === 'unavailable' ? 'UPSTREAM_UNAVAILABLE' : 'UPSTREAM_REFUSED';
    throw new DomainError(code, `${what}: ${error.message}`, { upstreamStatus: error.status, reason: error.kind }, { cause: error });
  }
};

export const httpRegistryApi: RegistryApi = {
  async probe(target) {
    try {
      if (target.kind === 'harbor') {
        await harbor(target).ping();
        if (target.credentials) await harbor(target).checkCredentials();
      } else {
        await createDistributionClient({ url: target.url, credentials: target.credentials }).ping();
      }
      return { status: 'healthy' };
    } catch (error) {
      if (!(error instanceof RegistryCallError)) throw error;
      return { status: error.kind === 'unauthorized' ? 'unauthorized' : error.kind === 'unavailable' ? 'unreachable' : 'unknown', message: error.message };
    }
  },
  async createProject(target, name, isPublic) {
    try {
      await harbor(target).createProject(name, isPublic);
      return 'created';
    } catch (error) {
      if (error instanceof RegistryCallError && error.kind === 'conflict') return 'existed';
      throw error;
    }
  },
  setProjectPublic: (target, name, isPublic) => harbor(target).setProjectPublic(name, isPublic),
  async deleteProject(target, name) {
    try {
      await harbor(target).deleteProject(name);
    } catch (error) {
      // Already gone in Harbor: the goal of the call holds.
      if (!(error instanceof RegistryCallError && error.kind === 'not-found')) throw error;
    }
  },
};

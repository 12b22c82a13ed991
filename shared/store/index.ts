import { auditRepository } from './audit.ts';
import { catalogRepository } from './catalog.ts';
import { clustersRepository } from './clusters.ts';
import { imageIndexRepository } from './image-index.ts';
import { indexStatusRepository } from './index-status.ts';
import { leasesRepository } from './leases.ts';
import { pendingRepository } from './pending.ts';
import { pullGrantsRepository } from './pull-grants.ts';
import { registriesRepository } from './registries.ts';
import { spacesRepository } from './spaces.ts';
import { tableOps, type Table } from './table.ts';
import { tenancyRepository } from './tenancy.ts';

/** Every repository over one table. */
export const createStore = (table: Table) => {
  const ops = tableOps(table);
  return {
    registries: registriesRepository(ops),
    spaces: spacesRepository(ops),
    catalog: catalogRepository(ops),
    tenancy: tenancyRepository(ops),
    index: imageIndexRepository(ops),
    pending: pendingRepository(ops),
    leases: leasesRepository(ops),
    indexStatus: indexStatusRepository(ops),
    pullGrants: pullGrantsRepository(ops),
    clusters: clustersRepository(ops),
    audit: auditRepository(ops),
  };
};
export type Store = ReturnType<typeof createStore>;

import * as z from 'zod';
import { PullAccessSyncRequested } from '../../events/index.ts';
import { DEFAULT_PULL_ACCESS, robotNameOf } from '../../shared/domain/pull-access.ts';
import type { Store } from '../../shared/store/index.ts';

const SecretJson = z.object({ data: z.object({ '.dockerconfigjson': z.string() }) });
const DockerConfig = z.object({ auths: z.record(z.string(), z.object({ username: z.string(), password: z.string(), auth: z.string() })) });

/** The `auths` of a pull Secret as the service answers it (JSON): host → credentials. */
export const authsOf = (secretJson: string) =>
  DockerConfig.parse(JSON.parse(Buffer.from(SecretJson.parse(JSON.parse(secretJson)).data['.dockerconfigjson'], 'base64').toString('utf8'))).auths;

/** The docker login user of workspace `w`'s robot, as Harbor shows it (default settings). */
export const robotName = (workspaceId: string) => `robot$${robotNameOf(DEFAULT_PULL_ACCESS, workspaceId)}`;

/** The sort keys of the pull grants that still carry a pending mark. */
export const pullMarks = async (store: Store) =>
  (await store.pending.olderThan('9999-12-31T00:00:00.000Z', 1000)).filter((m) => m.event.detailType === PullAccessSyncRequested.detailType).map((m) => m.key.sk);

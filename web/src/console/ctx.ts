import type { Api } from '../api.ts';

export type Page = 'registries' | 'spaces' | 'workspaces' | 'activity';

/** What every console page gets: the API client, who is signed in, and how to open another page. */
export type ConsoleCtx = {
  api: Api;
  platformAdmin: boolean;
  /** Workspaces the token's `workspace-admin:<id>` roles name. */
  ownWorkspaces: string[];
  go: (page: Page, arg?: string) => void;
};

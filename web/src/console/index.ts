import { fill, h } from '../dom.ts';
import { activityPage } from './activity.ts';
import type { ConsoleCtx, Page } from './ctx.ts';
import { registriesPage } from './registries.ts';
import { spacesPage } from './spaces.ts';
import { workspacesPage } from './workspaces.ts';

export type { ConsoleCtx, Page } from './ctx.ts';

type View = 'selector' | Page;
const NAV: [View, string][] = [
  ['selector', 'Selector'],
  ['registries', 'Registries'],
  ['workspaces', 'Workspaces'],
  ['activity', 'Activity'],
];

/** The console region and the header's navigation; `showSelector(shown)` hides or shows the selector's regions. */
export const createConsole = (showSelector: (shown: boolean) => void) => {
  const section = h('section', { id: 'console', class: 'panel console', 'aria-labelledby': 'console-title', hidden: true, tabindex: -1 });
  const nav = h('nav', { id: 'console-nav', 'aria-label': 'Console', hidden: true });
  let ctx: Omit<ConsoleCtx, 'go'> | undefined;
  const mark = (view: View) => {
    for (const b of nav.querySelectorAll('button')) {
      if (b.dataset.view === (view === 'spaces' ? 'registries' : view)) b.setAttribute('aria-current', 'page');
      else b.removeAttribute('aria-current');
    }
  };
  const go = (view: View, arg?: string) => {
    mark(view);
    showSelector(view === 'selector');
    section.hidden = view === 'selector';
    if (view === 'selector' || !ctx) return;
    const full: ConsoleCtx = { ...ctx, go };
    if (view === 'registries') registriesPage(full, section);
    else if (view === 'spaces' && arg) spacesPage(full, section, arg);
    else if (view === 'workspaces') workspacesPage(full, section);
    else if (view === 'activity') activityPage(full, section);
    section.focus();
  };
  fill(nav, ...NAV.map(([view, label]) => h('button', { type: 'button', 'data-view': view, id: `nav-${view}`, onclick: () => go(view) }, label)));
  return {
    nav,
    section,
    /** For a platform admin or a workspace admin: the console is offered; for anybody else it is hidden. */
    enable: (c: Omit<ConsoleCtx, 'go'> | undefined) => {
      ctx = c;
      nav.hidden = !c;
      go('selector');
    },
  };
};

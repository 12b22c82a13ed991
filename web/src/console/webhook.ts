import { messageOf, type Connected } from '../api.ts';
import { fill, h } from '../dom.ts';
import type { ConsoleCtx } from './ctx.ts';
import { copyButton, note } from './ui.ts';

/** The configuration's placeholder for the secret (`webhook-config` never holds the secret itself). */
const PLACEHOLDER = /<webhook secret:[^>]*>/g;

const readonlyField = (id: string, label: string, value: string, out: HTMLElement) =>
  h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    h('div', { class: 'row' }, h('input', { id, type: 'text', readonly: true, value, spellcheck: 'false' }), copyButton(`Copy ${label.toLowerCase()}`, () => value, out, `${id}-copy`)),
  );

/** Docker Registry: the `notifications` YAML with the secret filled in, ready to paste into config.yml. */
const distributionSnippet = async (ctx: ConsoleCtx, r: Connected, into: HTMLElement, out: HTMLElement) => {
  fill(into, h('p', { class: 'hint', role: 'status' }, 'Loading the configuration to paste…'));
  try {
    const config = await ctx.api.webhookConfig(r.id);
    const text = config.snippet.replace(PLACEHOLDER, r.webhook.secret);
    fill(
      into,
      h('label', { for: 'webhook-snippet' }, `Paste into ${config.pasteInto}`),
      h('textarea', { id: 'webhook-snippet', readonly: true, rows: Math.min(18, text.split('\n').length + 1), spellcheck: 'false' }, text),
      copyButton('Copy configuration', () => text, out, 'webhook-snippet-copy'),
    );
  } catch (error) {
    fill(into, h('p', { class: 'error', role: 'alert' }, `Could not load the configuration: ${messageOf(error)}. The URL and secret above are all it needs.`));
  }
};

/** Shown right after connecting: where the registry posts its webhooks, and the secret, this once. */
export const webhookPanel = (ctx: ConsoleCtx, r: Connected, dismiss: () => void) => {
  const out = note('webhook-copied');
  const snippet = h('div', { class: 'snippet' });
  const panel = h(
    'section',
    { class: 'panel webhook', id: 'webhook-panel', 'aria-labelledby': 'webhook-title', tabindex: -1 },
    h('h3', { id: 'webhook-title' }, `Connected ${r.name} (${r.host}): its webhook`),
    h('p', { class: 'warning', id: 'webhook-once' }, 'The secret is shown once, now: copy it before you leave this page. No answer shows it again (rotate it to get a new one).'),
    readonlyField('webhook-url', 'Webhook URL', r.webhook.url, out),
    readonlyField('webhook-secret', 'Secret', r.webhook.secret, out),
    r.webhook.authHeader ? h('p', { class: 'hint' }, `Authorization header: ${r.webhook.authHeader}`) : null,
    r.kind === 'harbor'
      ? h('p', { class: 'hint' }, 'Harbor: the service registers this webhook on every project its credentials reach, each with its own derived secret; the list shows the coverage after each sync.')
      : snippet,
    out,
    h('button', { type: 'button', id: 'webhook-done', onclick: dismiss }, 'I have copied it'),
  );
  if (r.kind !== 'harbor') void distributionSnippet(ctx, r, snippet, out);
  return panel;
};

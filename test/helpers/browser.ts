import type { Browser, BrowserContext, Page } from 'playwright-core';

/**
 * The service's page at `url/` in a context of its own (clipboard allowed, `height` px tall), its script errors
 * and Content Security Policy violations noted in `problems`; the context goes into `contexts` for closing.
 */
export const openServicePage = async (browser: Browser, url: string, opts: { problems: string[]; contexts?: BrowserContext[]; height?: number }): Promise<Page> => {
  const context = await browser.newContext({ viewport: { width: 1280, height: opts.height ?? 860 } });
  opts.contexts?.push(context);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
  const page = await context.newPage();
  page.on('pageerror', (e) => opts.problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.text().includes('Content Security Policy') && opts.problems.push(m.text()));
  await page.goto(`${url}/`);
  return page;
};

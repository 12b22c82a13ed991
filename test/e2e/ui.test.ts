import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { openServicePage } from '../helpers/browser.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fakeDigest, startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';
import { harborAuthorization, harborEvent, projectOf } from '../helpers/harbor-events.ts';
import { eventually, startService, type Service } from '../helpers/service.ts';

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-results', 'ui');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const BULK = 60;
/** Push times a few days back, so the page reads like a real one ("3 days ago"). */
const T0 = Math.floor(Date.now() / 1000) - 4 * 86_400;

const Created = z.object({ id: z.string(), host: z.string(), webhook: z.object({ secret: z.string() }) });
const ImagePage = z.object({ items: z.array(z.object({ image: z.string() })), nextCursor: z.string().nullable() });

describe('the image selector page in Chromium, against the embedded runtime', () => {
  let svc: Service;
  let harbor: FakeHarbor;
  let browser: Browser;
  let reg: z.infer<typeof Created>;
  let readerA: string;
  let readerB: string;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  const webhook = (body: unknown) => svc.call('POST', `/webhooks/harbor/${reg.id}`, body, null, { authorization: harborAuthorization(reg.webhook.secret, projectOf(body)) });
  const push = async (project: string, repo: string, tag: string, occurAt: number, repoType: 'public' | 'private') =>
    expect((await webhook(harborEvent('PUSH_ARTIFACT', { host: reg.host, project, repo, tag, digest: fakeDigest(`${project}/${repo}:${tag}`), occurAt, repoType }))).status).toBe(200);
  const visible = async (ns: string, token: string) => {
    const res = await svc.call('GET', `/api/v1/clusters/prod/namespaces/${ns}/images?limit=100`, undefined, token);
    return ImagePage.parse(res.body).items.map((i) => i.image);
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [harbor, svc, browser] = await Promise.all([startFakeHarbor(), startService(), chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })]);

    // The admin's set-up, over the API: a public and a private space, the private one bound to workspace A.
    const res = await svc.call('POST', '/api/v1/registries', { name: 'harbor', kind: 'harbor', mode: 'hosted', url: harbor.url, credentials: harbor.credentials });
    expect(res.status).toBe(201);
    reg = Created.parse(res.body);
    for (const w of ['team-a', 'team-b']) expect((await svc.call('PUT', `/api/v1/workspaces/${w}`, {})).status).toBe(201);
    expect((await svc.call('PUT', '/api/v1/clusters/prod/namespaces/shop', { workspaceId: 'team-a' })).status).toBe(201);
    expect((await svc.call('PUT', '/api/v1/clusters/prod/namespaces/blog', { workspaceId: 'team-b' })).status).toBe(201);
    expect((await svc.call('POST', `/api/v1/registries/${reg.id}/spaces`, { name: 'shared', visibility: 'public' })).status).toBe(201);
    expect((await svc.call('POST', `/api/v1/registries/${reg.id}/spaces`, { name: 'payments', visibility: 'private' })).status).toBe(201);
    expect((await svc.call('PUT', `/api/v1/registries/${reg.id}/spaces/payments/bindings/team-a`)).status).toBe(204);
    await push('shared', 'nginx', '1.8.0', T0, 'public');
    // One push, three tags: newest-first order falls back to semver (1.10.0 before 1.9.0).
    for (const tag of ['1.9.0', 'latest', '1.10.0']) await push('shared', 'nginx', tag, T0 + 86_400, 'public');
    await push('shared', 'redis', '7.2', T0 + 3_600, 'public');
    await push('payments', 'api', 'v1', T0 + 2 * 86_400, 'private');
    await push('payments', 'api', 'v2', T0 + 3 * 86_400 + 5_000, 'private');

    // Enough public images to need a second page.
    const dr = Created.parse((await svc.call('POST', '/api/v1/registries', { name: 'mirror', kind: 'docker-registry', mode: 'integrated', url: 'http://127.0.0.1:9' })).body);
    const events = Array.from({ length: BULK }, (_, i) => ({
      id: `bulk-${i}`,
      timestamp: new Date((T0 + i * 600) * 1000).toISOString(),
      action: 'push',
      target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: fakeDigest(`bulk-${i}`), repository: `bulk/app-${String(i).padStart(2, '0')}`, tag: '1.0' },
    }));
    expect((await svc.call('POST', `/webhooks/distribution/${dr.id}`, { events }, null, { authorization: `Bearer ${dr.webhook.secret}` })).status).toBe(200);

    readerA = svc.token({ workspaces: ['team-a'] });
    readerB = svc.token({ workspaces: ['team-b'] });
    await eventually(async () => (await visible('shop', readerA)).length === BULK + 3, 5000);
  });
  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await browser?.close();
    await svc?.stop();
    await harbor?.close();
  });
  afterEach(() => {
    // Uncaught exceptions and CSP violations fail the test that caused them.
    expect(problems.splice(0)).toEqual([]);
  });

  const openPage = async (token?: string, settle = true) => {
    const page = await openServicePage(browser, svc.url, { problems, contexts });
    if (token) {
      await page.fill('#token', token);
      await page.keyboard.press('Enter');
      if (settle) await settled(page);
    }
    return page;
  };
  /** Waits until no selector request is in flight and the status line names a result. */
  const settled = (page: Page) =>
    page.waitForFunction(() => document.querySelector('#results')?.getAttribute('aria-busy') === 'false' && /image|namespace/i.test(document.querySelector('#status')?.textContent || document.querySelector('#results')?.textContent || ''));
  const searchFor = async (page: Page, q: string) => {
    await page.fill('#q', q);
    await page.waitForFunction((text) => {
      const line = document.querySelector('#status')?.textContent ?? '';
      const done = text ? line.includes(`matching “${text}” on page 1`) : /^\d+ images? on page 1 /.test(line);
      return done && document.querySelector('#results')?.getAttribute('aria-busy') === 'false';
    }, q);
  };
  const images = (page: Page) => page.$$eval('button.image', (els) => els.map((e) => e.getAttribute('data-image')));

  it('serves the page, its assets and the OpenAPI document from the project itself', async () => {
    const page = await openPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.reload();
    await page.locator('#token').waitFor();
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((u) => u.startsWith(svc.url))).toBe(true);
    const html = await fetch(`${svc.url}/`);
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    const js = await fetch(`${svc.url}/ui/app.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${svc.url}/ui/nothing.js`)).status).toBe(404);
    expect((await fetch(`${svc.url}/openapi.json`)).status).toBe(200);
  });

  it('keeps explain and blast radius to platform admins: they name private spaces', async () => {
    const explain = `/api/v1/clusters/prod/namespaces/shop/explain?image=${encodeURIComponent(`${reg.host}/payments/api`)}`;
    expect((await svc.call('GET', explain, undefined, readerA)).status).toBe(403);
    expect((await svc.call('POST', `/api/v1/registries/${reg.id}/spaces/payments/preview`, { action: 'delete' }, readerA)).status).toBe(403);
    expect((await svc.call('GET', explain)).body).toMatchObject({ visible: true, offeredBy: ['workspace:team-a'] });
    expect((await svc.call('GET', '/api/v1/me/namespaces', undefined, readerB)).body).toEqual({ admin: false, workspaces: ['team-b'], items: [{ cluster: 'prod', namespace: 'blog', workspaceId: 'team-b' }] });
  });

  it('lets a reader of workspace A find a private image, pick a tag and copy the pinned reference', async () => {
    const page = await openPage(readerA);
    expect(await page.$$eval('#namespace option', (os) => os.map((o) => o.getAttribute('value')))).toEqual(['prod/shop']);
    await searchFor(page, 'payments');
    const image = `${reg.host}/payments/api`;
    expect(await images(page)).toEqual([image]);
    const group = page.locator('section.group', { hasText: `${reg.host}/payments` });
    expect(await group.locator('.badge').textContent()).toBe('private');
    expect(await group.locator('.granted').textContent()).toBe('granted by workspace team-a');

    await page.click(`button.image[data-image="${image}"]`);
    await page.locator('label.tag').first().waitFor();
    expect(await page.$$eval('label.tag .tag-name', (els) => els.map((e) => e.textContent))).toEqual(['v2', 'v1']);
    expect(await page.inputValue('#reference')).toBe(`${image}:v2`);
    await page.check('#pin');
    const pinned = `${image}@${fakeDigest('payments/api:v2')}`;
    expect(await page.inputValue('#reference')).toBe(pinned);
    await page.click('#copy');
    await page.waitForFunction(() => document.querySelector('#copy-status')?.textContent?.startsWith('Copied'));
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(pinned);
    await page.screenshot({ path: join(ARTIFACTS, 'selector-reader-a-search.png'), fullPage: true });
    // The whole list: the private space beside the public ones, the choice kept.
    await searchFor(page, '');
    expect(await page.inputValue('#reference')).toBe(pinned);
    await page.screenshot({ path: join(ARTIFACTS, 'selector-reader-a.png') });
  });

  it('never shows that image to a reader of workspace B, even when searching for it', async () => {
    const page = await openPage(readerB);
    expect(await page.$$eval('#namespace option', (os) => os.map((o) => o.getAttribute('value')))).toEqual(['prod/blog']);
    await searchFor(page, 'payments');
    expect(await images(page)).toEqual([]);
    expect(await page.locator('.empty h2').textContent()).toBe('No image matches “payments”');
    await searchFor(page, 'api');
    expect(await images(page)).toEqual([]);
    await searchFor(page, '');
    const shown = await images(page);
    expect(shown).toContain(`${reg.host}/shared/nginx`);
    expect(shown.some((i) => i?.includes('payments'))).toBe(false);
    expect(await page.content()).not.toContain('payments/api');
  });

  it('narrows results as the reader types, and pages through a long list', async () => {
    const page = await openPage(readerA);
    await searchFor(page, '');
    expect(await images(page)).toHaveLength(50);
    expect(await page.isDisabled('#prev')).toBe(true);
    await page.click('#next');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.includes('on page 2'));
    expect(await images(page)).toHaveLength(BULK + 3 - 50);
    expect(await page.isDisabled('#next')).toBe(true);
    await page.click('#prev');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.includes('on page 1'));

    await page.locator('#q').pressSequentially('app-0', { delay: 30 });
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.includes('matching “app-0”'));
    expect(await images(page)).toHaveLength(10);
    await page.locator('#q').pressSequentially('7');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.includes('matching “app-07”'));
    expect(await images(page)).toEqual(['127.0.0.1:9/bulk/app-07']);
    expect(await page.locator('button.image mark').textContent()).toBe('app-07');
    // Typing was answered from the page's copy of the list first, then confirmed by the server.
    expect(await page.getAttribute('#results', 'data-snapshot')).toBe(`prod/shop ${BULK + 3}`);
    expect(await page.evaluate(() => performance.getEntriesByName('selector:local').length)).toBeGreaterThan(0);
  });

  it('works from the keyboard: / to search, arrows through results and tags, Enter to open, Esc to go back', async () => {
    const page = await openPage(readerA);
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('q');
    await page.keyboard.type('shared/');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.includes('matching “shared/”'));
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-image'))).toBe(`${reg.host}/shared/nginx`);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.getAttribute('name') === 'tag');
    // Newest first; the three tags of one push in semver order; `latest` after the versions.
    expect(await page.$$eval('label.tag .tag-name', (els) => els.map((e) => e.textContent))).toEqual(['1.10.0', '1.9.0', 'latest', '1.8.0']);
    await page.keyboard.press('ArrowDown');
    expect(await page.inputValue('#reference')).toBe(`${reg.host}/shared/nginx:1.9.0`);
    await page.selectOption('#tag-order', 'version');
    expect(await page.$$eval('label.tag .tag-name', (els) => els.map((e) => e.textContent))).toEqual(['1.10.0', '1.9.0', '1.8.0', 'latest']);
    await page.locator('input[name="tag"]:checked').focus();
    await page.keyboard.press('Escape');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-image'))).toBe(`${reg.host}/shared/nginx`);
  });

  it('shows what is wrong: a refused token, a token without namespaces', async () => {
    const page = await openPage('not-a-token', false);
    await page.locator('#signin-error').filter({ hasText: 'refused' }).waitFor();
    expect(await page.isVisible('#selector')).toBe(false);

    const lonely = await openPage(svc.token({ workspaces: ['team-c'] }));
    expect(await lonely.locator('.empty').textContent()).toContain('No namespace is bound to your workspaces (team-c)');
  });

  it('lets an admin explain why an image is not offered, and preview a change before making it', async () => {
    const page = await openPage(svc.adminToken);
    await page.selectOption('#namespace', 'prod/blog');
    await settled(page);
    await page.fill('#explain-image', `${reg.host}/payments/api:v2`);
    await page.click('#explain');
    await page.locator('#explain-result .verdict').waitFor();
    expect(await page.locator('#explain-result .verdict').textContent()).toBe('Not offered to prod/blog: space payments is not bound to team-b (bound to team-a)');
    expect(await page.$$eval('ol.facts li', (els) => els.map((e) => e.className))).toEqual(['holds', 'holds', 'holds', 'missing']);

    await page.selectOption('#preview-registry', reg.id);
    await page.waitForFunction(() => document.querySelectorAll('#preview-space option').length > 0);
    await page.selectOption('#preview-space', 'shared');
    await page.selectOption('#preview-action', 'make-private');
    await page.click('#preview');
    await page.locator('#preview-result .verdict').waitFor();
    expect(await page.locator('#preview-result .verdict').textContent()).toBe(
      'Making shared private would remove 2 images from 2 registered namespaces and from every namespace the service does not know.',
    );
    expect((await svc.call('GET', `/api/v1/registries/${reg.id}/spaces/shared`)).body).toMatchObject({ visibility: 'public' });
    await page.screenshot({ path: join(ARTIFACTS, 'selector-admin.png'), fullPage: true });
  });

  it('shows an image pushed after the page opened: the server’s answer wins over the page’s copy', async () => {
    const page = await openPage(readerA);
    await page.waitForFunction(() => document.querySelector('#results')?.getAttribute('data-snapshot'));
    await push('payments', 'fresh-worker', 'v1', T0 + 4 * 86_400, 'private');
    await eventually(async () => (await visible('shop', readerA)).includes(`${reg.host}/payments/fresh-worker`));
    await searchFor(page, 'fresh');
    expect(await images(page)).toEqual([`${reg.host}/payments/fresh-worker`]);
  });
});

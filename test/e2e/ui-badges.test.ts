import { chromium, type Browser, type Page } from 'playwright-core';
import { openServicePage } from '../helpers/browser.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fakeDigest, startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';
import { fixture } from '../helpers/fixtures.ts';
import { harborAuthorization, harborEvent, projectOf } from '../helpers/harbor-events.ts';
import { eventually, startService, type Service } from '../helpers/service.ts';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const Created = z.object({ id: z.string(), host: z.string(), webhook: z.object({ secret: z.string() }) });
const Page = z.object({ items: z.array(z.object({ image: z.string(), latestTag: z.object({ scan: z.object({ severity: z.string() }).optional() }) })) });
const REPORT = 'application/vnd.security.vulnerability.report; version=1.1';
const T0 = Math.floor(Date.now() / 1000) - 86_400;

describe('the selector’s badges and the critical-findings filter in Chromium', () => {
  let svc: Service;
  let harbor: FakeHarbor;
  let browser: Browser;
  let reg: z.infer<typeof Created>;
  let reader: string;
  const problems: string[] = [];

  const webhook = (body: unknown, project = projectOf(body)) => svc.call('POST', `/webhooks/harbor/${reg.id}`, body, null, { authorization: harborAuthorization(reg.webhook.secret, project) });
  /** The captured SCANNING_COMPLETED for `shared/<repo>@digest`, with Harbor's summary of what it found. */
  const scan = (repo: string, digest: string, severity: string, summary: Record<string, number>) => {
    const body = structuredClone(fixture('harbor/scanning_completed.default.json')) as {
      event_data: { resources: { digest: string; scan_overview: Record<string, Record<string, unknown>> }[]; repository: Record<string, string> };
    };
    const [resource] = body.event_data.resources;
    if (!resource?.scan_overview[REPORT]) throw new Error('fixture changed');
    resource.digest = digest;
    const total = Object.values(summary).reduce((a, b) => a + b, 0);
    Object.assign(resource.scan_overview[REPORT], { severity, summary: { total, fixable: 1, summary } });
    body.event_data.repository = { ...body.event_data.repository, name: repo, namespace: 'shared', repo_full_name: `shared/${repo}` };
    return body;
  };

  beforeAll(async () => {
    [harbor, svc, browser] = await Promise.all([startFakeHarbor(), startService(), chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })]);
    reg = Created.parse((await svc.call('POST', '/api/v1/registries', { name: 'harbor', kind: 'harbor', mode: 'hosted', url: harbor.url, credentials: harbor.credentials })).body);
    expect((await svc.call('PUT', '/api/v1/workspaces/team-a', {})).status).toBe(201);
    expect((await svc.call('PUT', '/api/v1/clusters/prod/namespaces/shop', { workspaceId: 'team-a' })).status).toBe(201);
    expect((await svc.call('POST', `/api/v1/registries/${reg.id}/spaces`, { name: 'shared', visibility: 'public' })).status).toBe(201);
    for (const repo of ['nginx', 'redis']) {
      const push = harborEvent('PUSH_ARTIFACT', { host: reg.host, project: 'shared', repo, tag: '1.0', digest: fakeDigest(repo), occurAt: T0, repoType: 'public' });
      expect((await webhook(push)).status).toBe(200);
    }
    expect((await webhook(scan('nginx', fakeDigest('nginx'), 'Critical', { Critical: 2, High: 1 }))).status).toBe(200);
    expect((await webhook(scan('redis', fakeDigest('redis'), 'Low', { Low: 3 }))).status).toBe(200);
    // A Docker Registry push event tells the image's size: its config and layers.
    const dr = Created.parse((await svc.call('POST', '/api/v1/registries', { name: 'mirror', kind: 'docker-registry', mode: 'integrated', url: 'http://127.0.0.1:9' })).body);
    const sized = structuredClone(fixture('distribution/manifest-push.json'));
    expect((await svc.call('POST', `/webhooks/distribution/${dr.id}`, sized, null, { authorization: `Bearer ${dr.webhook.secret}` })).status).toBe(200);
    reader = svc.token({ workspaces: ['team-a'] });
    await eventually(async () => {
      const items = Page.parse((await svc.call('GET', '/api/v1/clusters/prod/namespaces/shop/images?limit=100', undefined, reader)).body).items;
      return items.length === 3 && items.filter((i) => i.latestTag.scan).length === 2;
    }, 5000);
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
    await harbor?.close();
  });

  const openPage = async (): Promise<Page> => {
    const page = await openServicePage(browser, svc.url, { problems });
    await page.fill('#token', reader);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('button.image').length === 3);
    return page;
  };
  const shown = async (page: Page) => (await page.$$eval('button.image', (els) => els.map((e) => e.getAttribute('data-image')))).sort();

  it('shows the scan of each result and of the open image’s tags, with the counts as accessible text', async () => {
    const page = await openPage();
    const nginx = page.locator(`button.image[data-image="${reg.host}/shared/nginx"] .badge.scan`);
    expect(await nginx.textContent()).toBe('2 critical');
    expect(await nginx.getAttribute('aria-label')).toBe('Vulnerability scan: worst critical (2 critical, 1 high, 0 medium, 0 low, 0 unknown; 1 of 3 fixable), by Trivy v0.37.2');
    expect(await page.locator(`button.image[data-image="${reg.host}/shared/redis"] .badge.scan-low`).textContent()).toBe('low');
    const size = page.locator('button.image[data-image="127.0.0.1:9/space/app"] .badge.size');
    expect(await size.textContent()).toBe('494 B');
    expect(await size.getAttribute('aria-label')).toBe('Size 494 B');
    await page.click(`button.image[data-image="${reg.host}/shared/nginx"]`);
    await page.waitForSelector('label.tag .badge.scan-critical');
    expect(problems).toEqual([]);
  });

  it('hides the images whose latest tag has critical findings, and shows them again', async () => {
    const page = await openPage();
    await page.getByLabel('Hide images whose latest tag has critical findings').check();
    expect(await shown(page)).toEqual(['127.0.0.1:9/space/app', `${reg.host}/shared/redis`].sort());
    expect(await page.textContent('#status')).toContain('1 hidden: latest tag has critical findings');
    await page.getByLabel('Hide images whose latest tag has critical findings').uncheck();
    expect(await shown(page)).toEqual(['127.0.0.1:9/space/app', `${reg.host}/shared/nginx`, `${reg.host}/shared/redis`].sort());
    expect(problems).toEqual([]);
  });
});

import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { openServicePage } from '../helpers/browser.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { hasDockerRegistry, startDockerRegistry, type DockerRegistry } from '../helpers/docker-registry.ts';
import { fakeDigest, startFakeHarbor, type FakeHarbor } from '../helpers/fake-harbor.ts';
import { harborEvent } from '../helpers/harbor-events.ts';
import { writeOciImages, type OciImage } from '../helpers/oci.ts';
import { eventually, startService, type Service } from '../helpers/service.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test-results', 'console');
/** `UPDATE_DOCS_SCREENSHOTS=1 npx vitest run test/e2e/console.test.ts` also writes the walk-through's images (docs/console/). */
const DOCS = process.env.UPDATE_DOCS_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'console') : undefined;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const T0 = Math.floor(Date.now() / 1000) - 3600;

const Registries = z.object({ items: z.array(z.object({ id: z.string(), name: z.string(), host: z.string() })) });
const ImagePage = z.object({ items: z.array(z.object({ image: z.string() })) });
const PullSecret = z.object({ data: z.object({ '.dockerconfigjson': z.string() }) });
const DockerConfig = z.object({ auths: z.record(z.string(), z.object({ password: z.string() })) });

/**
 * Both seed flows of the product brief, in the browser only: a platform admin connects a Harbor (the fake) and a real
 * Docker Registry in the console, creates a public space and a private one, binds the private one to a workspace with
 * the keyboard alone, and makes a space private again after the blast radius said what disappears; readers of two
 * workspaces check the selector at each step.
 */
describe('the admin console in Chromium: both seed flows', () => {
  const ociDir = mkdtempSync(join(tmpdir(), 'oci-console-'));
  let svc: Service;
  let harbor: FakeHarbor;
  let registry: DockerRegistry;
  let browser: Browser;
  let image: OciImage;
  let admin: Page;
  let readerA: string;
  let readerB: string;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    if (!hasDockerRegistry()) throw new Error('needs Debian packages docker-registry, skopeo and apache2-utils (see .ci/run)');
    mkdirSync(ARTIFACTS, { recursive: true });
    if (DOCS) mkdirSync(DOCS, { recursive: true });
    [svc, harbor, registry, browser] = await Promise.all([
      startService(),
      startFakeHarbor(),
      startDockerRegistry(),
      chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS }),
    ]);
    [image] = (await writeOciImages(ociDir, ['tool'], 'console')) as [OciImage];
    readerA = svc.token({ sub: 'rita', workspaces: ['team-a'] });
    readerB = svc.token({ sub: 'bob', workspaces: ['team-b'] });
    admin = await openPage(svc.token({ sub: 'ada', roles: ['platform-admin'] }));
  });
  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await browser?.close();
    await registry?.stop();
    await svc?.stop();
    await harbor?.close();
    rmSync(ociDir, { recursive: true, force: true });
  });
  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  async function openPage(token: string) {
    const page = await openServicePage(browser, svc.url, { problems, contexts, height: 900 });
    await page.fill('#token', token);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#results')?.getAttribute('aria-busy') === 'false' && !document.querySelector('#signin:not([hidden])'));
    return page;
  }
  const shot = async (page: Page, name: string) => {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    if (DOCS) copyFileSync(join(ARTIFACTS, `${name}.png`), join(DOCS, `${name}.png`));
  };
  const go = async (page: Page, view: string) => {
    await page.click(`#nav-${view}`);
    await page.waitForFunction(() => document.querySelector('#console')?.querySelector('[aria-busy="true"], .loading') === null);
  };
  const registryNamed = async (name: string) => {
    const found = Registries.parse((await svc.call('GET', '/api/v1/registries')).body).items.find((r) => r.name === name);
    if (!found) throw new Error(`no registry ${name}`);
    return found;
  };
  /** What the selector offers to the reader's namespace, through the page: search, then read the results. */
  const offeredInBrowser = async (token: string, q: string) => {
    const page = await openPage(token);
    await page.fill('#q', q);
    await page.waitForFunction((text) => (document.querySelector('#status')?.textContent ?? '').includes(`matching “${text}” on page 1`) && document.querySelector('#results')?.getAttribute('aria-busy') === 'false', q);
    const shown = await page.$$eval('button.image', (els) => els.map((e) => e.getAttribute('data-image')));
    return { page, shown };
  };
  const offered = async (ns: string) => ImagePage.parse((await svc.call('GET', `/api/v1/clusters/prod/namespaces/${ns}/images?limit=100`)).body).items.map((i) => i.image);
  /** A push as Harbor delivers it: to the address and with the Authorization header of the policy the service registered on the project. */
  const harborPush = async (project: string, repo: string, tag: string, at: number) => {
    const projectId = harbor.state.projectByName(project)?.projectId ?? -1;
    const target = harbor.state.policiesOf(projectId)[0]?.targets[0];
    expect(target, `the service registered a webhook policy on ${project}`).toBeDefined();
    const digest = fakeDigest(`${project}/${repo}:${tag}`);
    harbor.state.addArtifact(project, repo, digest, [tag], new Date(at * 1000));
    const host = new URL(harbor.url).host;
    const res = await fetch(target?.address ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: target?.auth_header ?? '' },
      body: JSON.stringify(harborEvent('PUSH_ARTIFACT', { host, project, repo, tag, digest, occurAt: at })),
    });
    expect(res.status).toBe(200);
    return `${host}/${project}/${repo}`;
  };
  const connect = async (page: Page, f: { name: string; kind: string; mode: string; url: string; username: string; password: string }) => {
    await page.fill('#connect-name', f.name);
    await page.selectOption('#connect-kind', f.kind);
    await page.selectOption('#connect-mode', f.mode);
    await page.fill('#connect-url', f.url);
    await page.fill('#connect-username', f.username);
    await page.fill('#connect-password', f.password);
    await page.click('#connect-submit');
  };
  const openSpaces = async (page: Page, name: string) => {
    await go(page, 'registries');
    await page.click(`button[aria-label="Spaces of ${name}"]`);
    await page.locator('#create-space').waitFor();
  };
  /** The bodies of the PATCH requests the page sends to a registry while `act` runs. */
  const patchesDuring = async (page: Page, act: () => Promise<void>) => {
    const sent: unknown[] = [];
    const seen = (r: import('playwright-core').Request) => r.method() === 'PATCH' && /\/api\/v1\/registries\/[^/]+$/.test(new URL(r.url()).pathname) && sent.push(r.postDataJSON());
    page.on('request', seen);
    try {
      await act();
    } finally {
      page.off('request', seen);
    }
    return sent;
  };
  /** Submits the edit form and waits for its answer (the form closes, or an error shows). */
  const submitEdit = async (page: Page) => {
    await page.click('#edit-registry-submit');
    await page.waitForFunction(() => !document.querySelector('#edit-registry-form') || !!document.querySelector('#edit-registry-error')?.textContent);
  };
  const createSpace = async (page: Page, name: string, visibility: 'public' | 'private') => {
    await page.fill('#new-space-name', name);
    await page.check(`input[name="new-space-visibility"][value="${visibility}"]`);
    await page.click('#create-space-submit');
    await page.locator(`tr[data-space="${name}"]`).waitFor();
  };

  it('connects a Harbor and a real Docker Registry, with field errors and the webhook shown once', async () => {
    await go(admin, 'registries');
    expect(await admin.locator('#registries-list .empty h3').textContent()).toBe('No registry yet');
    await connect(admin, { name: 'harbor', kind: 'harbor', mode: 'hosted', url: 'harbor.example', ...harbor.credentials });
    await admin.locator('#connect-url-error').filter({ hasText: /url/i }).waitFor();
    expect(await admin.getAttribute('#connect-url', 'aria-invalid')).toBe('true');
    await shot(admin, 'connect-error');

    await admin.fill('#connect-url', harbor.url);
    await admin.click('#connect-submit');
    await admin.locator('#webhook-panel').waitFor();
    expect(await admin.locator('#webhook-once').textContent()).toContain('shown once');
    expect(await admin.inputValue('#webhook-secret')).toMatch(/^[\w-]{40,}$/);
    await admin.click('#webhook-secret-copy');
    expect(await admin.evaluate(() => navigator.clipboard.readText())).toBe(await admin.inputValue('#webhook-secret'));
    await admin.click('#webhook-done');

    await connect(admin, { name: 'mirror', kind: 'docker-registry', mode: 'integrated', url: registry.url, username: registry.username, password: registry.password });
    await admin.locator('#webhook-snippet').waitFor();
    const secret = await admin.inputValue('#webhook-secret');
    const snippet = await admin.inputValue('#webhook-snippet');
    expect(snippet).toContain(secret);
    await shot(admin, 'connected-webhook');
    // The admin pastes what the console showed into the registry's config.yml and restarts it.
    await appendFile(join(registry.dir, 'config.yml'), snippet);
    await registry.restart();
    await admin.waitForFunction(() => document.querySelectorAll('#registries-table tbody tr').length === 2);
    await admin.click('#webhook-done');
    expect(await admin.isVisible('#webhook-secret')).toBe(false);
    await shot(admin, 'registries');
  });

  it('creates workspaces and binds namespaces', async () => {
    await go(admin, 'workspaces');
    for (const w of ['team-a', 'team-b']) {
      await admin.fill('#new-workspace-id', w);
      await admin.click('#workspace-submit');
      await admin.locator(`tr[data-workspace="${w}"]`).waitFor();
    }
    for (const [ns, w] of [['shop', 'team-a'], ['blog', 'team-b']] as const) {
      await admin.fill('#bind-ns-cluster', 'prod');
      await admin.fill('#bind-ns-namespace', ns);
      await admin.selectOption('#bind-ns-workspace', w);
      await admin.click('#bind-ns-submit');
      await admin.locator(`tr[data-workspace="${w}"] td.namespaces`).filter({ hasText: `prod/${ns}` }).waitFor();
    }
    await shot(admin, 'workspaces');
  });

  it('flow 1: a public space, a push, and a reader of another workspace finds and copies the image', async () => {
    await openSpaces(admin, 'harbor');
    await admin.fill('#new-space-name', 'Shared');
    expect(await admin.locator('#new-space-name-error').textContent()).toContain('Lower-case');
    await admin.fill('#new-space-name', 'shared-');
    expect(await admin.locator('#new-space-name-error').textContent()).toContain('Start and end');
    await admin.check('input[name="new-space-visibility"][value="public"]');
    expect(await admin.locator('#new-space-audience').textContent()).toBe('Every namespace, registered or not, will be offered its images.');
    await admin.click('#create-space-submit');
    expect(await admin.locator('tr[data-space]').count()).toBe(0);
    await createSpace(admin, 'shared', 'public');
    await shot(admin, 'spaces');
    const nginx = await harborPush('shared', 'nginx', '1.27', T0);
    await eventually(async () => (await offered('blog')).includes(nginx), 5000);

    const { page, shown } = await offeredInBrowser(readerB, 'nginx');
    expect(shown).toEqual([nginx]);
    await page.click(`button.image[data-image="${nginx}"]`);
    await page.locator('label.tag').first().waitFor();
    await page.click('#copy');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${nginx}:1.27`);

    // The Docker Registry's own push, through the notifications the admin pasted: public to every namespace.
    await registry.push(image.ref, 'tools/jq:1.7');
    const jq = `${(await registryNamed('mirror')).host}/tools/jq`;
    await eventually(async () => (await offered('blog')).includes(jq), 10_000);
    expect((await offeredInBrowser(readerB, 'jq')).shown).toEqual([jq]);
  });

  it('flow 2: a private space bound to workspace A with the keyboard alone; A finds it, B does not', async () => {
    await openSpaces(admin, 'harbor');
    await createSpace(admin, 'payments', 'private');
    const api = await harborPush('payments', 'api', 'v1', T0 + 60);
    await eventually(async () => (await svc.call('GET', `/api/v1/clusters/prod/namespaces/shop/explain?image=${encodeURIComponent(api)}`)).text.includes('not bound'), 5000);
    expect(await offered('shop')).not.toContain(api);

    await admin.focus('button[aria-label="Bindings of payments"]');
    await admin.keyboard.press('Enter');
    await admin.waitForFunction(() => document.activeElement?.getAttribute('name') === 'bound');
    expect(await admin.evaluate(() => (document.activeElement as HTMLInputElement).value)).toBe('team-a');
    await admin.keyboard.press('Space');
    expect(await admin.locator('#bindings-summary').textContent()).toBe('Workspace team-a (prod/shop) will be offered its images.');
    // The focus ring is visible on every control the keyboard reaches.
    expect(await admin.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle)).not.toBe('none');
    await shot(admin, 'bindings');
    await admin.keyboard.press('Tab');
    await admin.keyboard.press('Tab');
    expect(await admin.evaluate(() => document.activeElement?.id)).toBe('bindings-save');
    await admin.keyboard.press('Enter');
    await admin.locator('tr[data-space="payments"] td.bound').filter({ hasText: 'team-a' }).waitFor();

    await eventually(async () => (await offered('shop')).includes(api), 5000);
    expect((await offeredInBrowser(readerA, 'payments')).shown).toEqual([api]);
    expect((await offeredInBrowser(readerB, 'payments')).shown).toEqual([]);
  });

  it('shows a workspace’s bound spaces and its Harbor robot, never the robot’s secret', async () => {
    const harborHost = new URL(harbor.url).host;
    // The robot's secret as the namespace's pull secret carries it: it must appear nowhere in the page.
    let robotSecret = '';
    await eventually(async () => {
      const data = PullSecret.parse((await svc.call('GET', '/api/v1/clusters/prod/namespaces/shop/pull-secret')).body).data['.dockerconfigjson'];
      robotSecret = DockerConfig.parse(JSON.parse(Buffer.from(data, 'base64').toString('utf8'))).auths[harborHost]?.password ?? '';
      return robotSecret !== '';
    }, 10_000);
    await go(admin, 'workspaces');
    await admin.click('button[aria-label="Spaces and robots of team-a"]');
    await admin.locator('#workspace-spaces').waitFor();
    expect(await admin.locator('#workspace-spaces tbody tr').allTextContents()).toEqual([`harbor (${harborHost})payments`]);
    const robot = admin.locator('#workspace-robots tbody tr').first();
    await robot.waitFor();
    expect(await robot.locator('th').textContent()).toMatch(/^robot\$.*team-a/);
    expect(await robot.locator('td').allTextContents()).toEqual([`harbor (${harborHost})`, 'payments', expect.stringMatching(/^(synced|pending)/), expect.any(String), expect.any(String)]);
    const page = await admin.evaluate(() => document.documentElement.outerHTML + [...document.querySelectorAll('input, textarea')].map((e) => (e as HTMLInputElement).value).join(' '));
    expect(robotSecret, 'the robot secret from the pull secret').toMatch(/.{8,}/);
    expect(page).not.toContain(robotSecret);
    await shot(admin, 'workspace-detail');

    await admin.click('button[aria-label="Spaces and robots of team-b"]');
    await admin.locator('#workspace-detail-body .empty h3').first().waitFor();
    expect(await admin.locator('#workspace-detail-body .empty h3').allTextContents()).toEqual(['No space bound', 'No Harbor robot']);
  });

  it('makes a space public (saying who will see it), then private again after its blast radius named what disappears', async () => {
    const api = `${new URL(harbor.url).host}/payments/api`;
    await openSpaces(admin, 'harbor');
    await admin.click('button[aria-label="Make payments public"]');
    const widen = admin.locator('dialog.confirm');
    expect(await widen.locator('.audience').textContent()).toBe('Every namespace, registered or not, will be offered its images.');
    await widen.locator('button.primary').click();
    await admin.locator('tr[data-space="payments"] .badge').filter({ hasText: 'public' }).waitFor();
    await eventually(async () => (await offered('blog')).includes(api), 5000);

    // Cancel first: nothing changes.
    await admin.click('button[aria-label="Make payments private"]');
    await admin.locator('dialog.confirm .lose-namespaces').waitFor();
    await admin.locator('dialog.confirm button.cancel').click();
    await admin.waitForTimeout(300);
    expect((await svc.call('GET', `/api/v1/registries/${(await registryNamed('harbor')).id}/spaces/payments`)).body).toMatchObject({ visibility: 'public' });

    await admin.click('button[aria-label="Make payments private"]');
    const narrow = admin.locator('dialog.confirm');
    await narrow.locator('.lose-namespaces').waitFor();
    const losing = await narrow.locator('.lose-namespaces li').allTextContents();
    const images = await narrow.locator('.lose-images li').allTextContents();
    expect(await narrow.locator('.verdict').textContent()).toBe('Making payments private would remove 1 image from 1 registered namespace and from every namespace the service does not know.');
    expect(losing).toEqual(['prod/blog']);
    expect(images).toEqual([api]);
    await shot(admin, 'blast-radius');
    await narrow.locator('button.danger').click();
    await admin.locator('tr[data-space="payments"] .badge').filter({ hasText: 'private' }).waitFor();
    // Exactly what the blast radius named disappeared: from prod/blog; prod/shop (bound) keeps it.
    await eventually(async () => !(await offered('blog')).includes(api), 5000);
    expect(await offered('shop')).toContain(api);
    expect((await offeredInBrowser(readerB, 'payments')).shown).toEqual([]);
  });

  it('shows the audit trail and the index freshness', async () => {
    await go(admin, 'activity');
    await admin.locator('#audit-table').waitFor();
    const actions = await admin.locator('#audit-table tbody th').allTextContents();
    expect(actions).toEqual(expect.arrayContaining(['SpaceVisibilityChanged', 'SpaceBound', 'RegistryConnected', 'WorkspaceCreated']));
    expect(await admin.locator('#audit-table tbody tr', { hasText: 'SpaceVisibilityChanged' }).first().textContent()).toContain('ada');
    expect(await admin.locator('#index-lag').textContent()).toBeTruthy();
    await shot(admin, 'activity');
  });

  it('edits a registry: only what changed is sent, a refused password changes nothing, the right one is kept', async () => {
    const mirror = await registryNamed('mirror');
    await go(admin, 'registries');
    await admin.click('button[aria-label="Edit mirror"]');
    expect(await admin.inputValue('#edit-registry-name')).toBe('mirror');
    expect(await patchesDuring(admin, () => submitEdit(admin))).toEqual([]);
    expect(await admin.locator('#edit-registry-error').textContent()).toContain('Nothing to save');

    await admin.fill('#edit-registry-name', 'jq mirror');
    expect(await patchesDuring(admin, () => submitEdit(admin))).toEqual([{ name: 'jq mirror' }]);
    await admin.locator(`tr[data-registry="${mirror.id}"] th`).filter({ hasText: /^jq mirror/ }).waitFor();
    expect(await admin.locator('#registries-note').textContent()).toContain('Saved jq mirror');

    // Another host: the page asks first, saying what the move does, and sends nothing unconfirmed.
    await admin.click('button[aria-label="Edit jq mirror"]');
    await admin.fill('#edit-registry-url', registry.url.replace('127.0.0.1', 'localhost'));
    expect(await admin.locator('label[for="edit-registry-confirm"]').textContent()).toContain('every image reference in the index is re-derived');
    expect(await patchesDuring(admin, () => submitEdit(admin))).toEqual([]);
    expect(await admin.locator('#edit-registry-confirm-error').textContent()).toContain('Confirm the move');
    await admin.click('#edit-registry-cancel');

    // A wrong admin password: the registry's refusal, next to the account's field; nothing changes.
    await admin.click('button[aria-label="Edit jq mirror"]');
    await admin.fill('#edit-registry-username', registry.username);
    await admin.fill('#edit-registry-password', 'not-the-password');
    expect(await patchesDuring(admin, () => submitEdit(admin))).toEqual([{ credentials: { username: registry.username, password: 'not-the-password' } }]);
    expect(await admin.locator('#edit-registry-username-error').textContent()).toMatch(/refused/);
    expect(await admin.getAttribute('#edit-registry-username', 'aria-invalid')).toBe('true');
    expect(await admin.getAttribute('#edit-registry-username', 'aria-describedby')).toContain('edit-registry-username-error');
    expect(await admin.locator('#edit-registry-error').textContent()).toMatch(/^Nothing was changed: .*refused/);
    await shot(admin, 'edit-registry');
    const before = (await svc.call('GET', `/api/v1/registries/${mirror.id}`)).body as { lastSuccessAt?: string };
    expect((await svc.call('POST', `/api/v1/registries/${mirror.id}/sync`)).status).toBe(202);
    await eventually(async () => ((await svc.call('GET', `/api/v1/registries/${mirror.id}`)).body as { lastSuccessAt?: string }).lastSuccessAt !== before.lastSuccessAt, 15_000);
    expect((await svc.call('GET', `/api/v1/registries/${mirror.id}`)).body).toMatchObject({ status: 'healthy', name: 'jq mirror' });

    // The right one, with the read-only pull account: both checked by the registry, then kept.
    await admin.fill('#edit-registry-password', registry.password);
    await admin.fill('#edit-registry-pull-username', registry.reader.username);
    await admin.fill('#edit-registry-pull-password', registry.reader.password);
    const sent = await patchesDuring(admin, () => submitEdit(admin));
    expect(sent).toEqual([{ credentials: { username: registry.username, password: registry.password }, pullCredentials: registry.reader }]);
    expect(await admin.isVisible('#edit-registry-form')).toBe(false);
    await admin.locator(`tr[data-registry="${mirror.id}"]`).filter({ hasText: 'pull credentials set' }).waitFor();
    expect(await admin.evaluate(() => document.querySelector('#console')?.outerHTML ?? '')).not.toContain(registry.password);

    await admin.click('button[aria-label="Edit jq mirror"]');
    await admin.fill('#edit-registry-name', 'mirror');
    expect(await patchesDuring(admin, () => submitEdit(admin))).toEqual([{ name: 'mirror' }]);
    await admin.locator(`tr[data-registry="${mirror.id}"] th`).filter({ hasText: /^mirror/ }).waitFor();

    // Confirmed, the move is sent with confirmHostChange; the index then offers the image under the new host.
    await admin.click('button[aria-label="Edit mirror"]');
    const moved = registry.url.replace('127.0.0.1', 'localhost');
    await admin.fill('#edit-registry-url', moved);
    await admin.check('#edit-registry-confirm');
    expect(await patchesDuring(admin, () => submitEdit(admin))).toEqual([{ url: moved, confirmHostChange: true }]);
    await admin.locator(`tr[data-registry="${mirror.id}"] th`).filter({ hasText: new URL(moved).host }).waitFor();
    await eventually(async () => (await offered('blog')).includes(`${new URL(moved).host}/tools/jq`), 10_000);
  });

  it('syncs a registry with progress, and removes one only after saying what leaves the selectors', async () => {
    const mirror = await registryNamed('mirror');
    const jq = `${mirror.host}/tools/jq`;
    await go(admin, 'registries');
    await admin.click('button[aria-label="Sync mirror now"]');
    await admin.locator('#registries-note').filter({ hasText: 'mirror synced: status healthy' }).waitFor({ timeout: 30_000 });
    await admin.locator(`tr[data-registry="${mirror.id}"] time`).waitFor();

    await admin.click('button[aria-label="Remove mirror"]');
    const dialog = admin.locator('dialog.confirm');
    await dialog.waitFor();
    expect(await dialog.locator('.verdict').textContent()).toBe('Its 1 space and 1 image leave every selector.');
    expect(await dialog.locator('.lose-namespaces').textContent()).toBe('Namespaces that lose images: prod/blog, prod/shop, and every namespace the service does not know');
    await admin.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect((await svc.call('GET', `/api/v1/registries/${mirror.id}`)).status).toBe(200);

    await admin.click('button[aria-label="Remove mirror"]');
    await dialog.locator('button.danger').click();
    await admin.waitForFunction(() => document.querySelectorAll('#registries-table tbody tr').length === 1);
    await eventually(async () => !(await offered('blog')).includes(jq), 5000);
  });

  it('labels every control on every console page', async () => {
    const unlabelled = () =>
      [...document.querySelectorAll<HTMLElement>('#console input, #console select, #console textarea, #console button, #console-nav button')]
        .filter((el) => el.offsetParent !== null || el.closest('dialog'))
        .filter((el) => {
          const labelled = el instanceof HTMLButtonElement ? !!el.textContent?.trim() : ((el as HTMLInputElement).labels?.length ?? 0) > 0;
          return !labelled && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby');
        })
        .map((el) => el.outerHTML.slice(0, 120));
    for (const view of ['registries', 'workspaces', 'activity']) {
      await go(admin, view);
      expect(await admin.evaluate(unlabelled), view).toEqual([]);
    }
    await go(admin, 'registries');
    await admin.click('button[aria-label="Edit harbor"]');
    await admin.locator('#edit-registry-form').waitFor();
    expect(await admin.evaluate(unlabelled), 'edit a registry').toEqual([]);
    expect(await admin.locator('#edit-registry-form').ariaSnapshot()).toContain('textbox "Name"');
    await go(admin, 'workspaces');
    await admin.click('button[aria-label="Spaces and robots of team-a"]');
    await admin.locator('#workspace-robots').waitFor();
    expect(await admin.evaluate(unlabelled), 'a workspace').toEqual([]);
    await openSpaces(admin, 'harbor');
    await admin.click('button[aria-label="Bindings of payments"]');
    expect(await admin.evaluate(unlabelled), 'spaces').toEqual([]);
    const tree = await admin.locator('#create-space').ariaSnapshot();
    expect(tree).toContain('textbox "Space name"');
  });

  it('offers a workspace admin only what they own, and says what is not theirs', async () => {
    const page = await openPage(svc.token({ sub: 'wanda', roles: ['workspace-admin:team-a'] }));
    expect(await page.isVisible('#console-nav')).toBe(true);
    await go(page, 'registries');
    expect(await page.locator('#registries-list .empty h3').textContent()).toBe('No registry yet');
    expect(await page.locator('#connect-owner').inputValue()).toBe('team-a');
    await go(page, 'activity');
    await page.locator('#index-status .forbidden').waitFor();
    await go(page, 'workspaces');
    expect(await page.locator('#workspaces-table tbody th').allTextContents()).toEqual(['team-a']);
    await page.click('button[aria-label="Spaces and robots of team-a"]');
    await page.locator('#workspace-spaces').waitFor();
    // A platform registry is not theirs to list: its id stands for it.
    const harborId = (await registryNamed('harbor')).id;
    expect(await page.locator('#workspace-spaces tbody tr').allTextContents()).toEqual([`${harborId}payments`]);
    // A reader gets no console at all.
    expect(await (await openPage(readerA)).isVisible('#console-nav')).toBe(false);
  });
});

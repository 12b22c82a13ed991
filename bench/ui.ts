import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { summary } from './stats.ts';
import { signJwt } from '../shared/local/jwt.ts';
import { startRuntime } from '../shared/local/runtime.ts';
import { harborProjectSecret } from '../shared/usecases/webhook-secrets.ts';

/**
 * `npm run bench:ui`: the selector page in headless Chromium on the embedded runtime (store on disk, as
 * `npm start` runs it) for a reader whose namespace sees 5,000 images (2,500 public in a Docker Registry,
 * 2,500 private in a Harbor space bound to its workspace). Prints latencies; asserts nothing.
 */
const PUBLIC = 2500;
const PRIVATE = 2500;
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const log = (line: string) => console.log(`[ui-bench] ${line}`);

const dataDir = mkdtempSync(join(tmpdir(), 'image-registry-ui-bench-'));
const secret = 'ui-bench-secret-0123456789abcdef';
const rt = await startRuntime({ port: 0, dataDir, jwtSecret: secret });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const admin = signJwt({ sub: 'bench', roles: ['platform-admin'] }, secret);
  const reader = signJwt({ sub: 'reader', workspaces: ['team-a'] }, secret);
  const api = async (method: string, path: string, body?: unknown, token: string | null = admin, headers: Record<string, string> = {}) => {
    const res = await fetch(`${rt.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
    const text = await res.text();
    return text ? (JSON.parse(text) as { id: string; host: string; webhook: { secret: string } }) : undefined;
  };

  const t0 = performance.now();
  const dr = await api('POST', '/api/v1/registries', { name: 'mirror', kind: 'docker-registry', mode: 'integrated', url: 'http://127.0.0.1:9' });
  const hb = await api('POST', '/api/v1/registries', { name: 'harbor', kind: 'harbor', mode: 'integrated', url: 'http://127.0.0.2:9' });
  if (!dr || !hb) throw new Error('registries not created');
  await api('PUT', '/api/v1/workspaces/team-a', {});
  await api('PUT', '/api/v1/clusters/bench/namespaces/shop', { workspaceId: 'team-a' });
  for (let i = 0; i < PUBLIC; i += 100) {
    const events = Array.from({ length: 100 }, (_, j) => ({
      id: `e-${i + j}`,
      timestamp: new Date(Date.now() - (i + j) * 60_000).toISOString(),
      action: 'push',
      target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digest(i + j), repository: `pub/app-${String(i + j).padStart(5, '0')}`, tag: '1.0' },
    }));
    await api('POST', `/webhooks/distribution/${dr.id}`, { events }, null, { authorization: `Bearer ${dr.webhook.secret}` });
  }
  const occur = Math.floor(Date.now() / 1000) - 86_400;
  const pushes = Array.from({ length: PRIVATE }, (_, n) => () =>
    api('POST', `/webhooks/harbor/${hb.id}`, {
      type: 'PUSH_ARTIFACT',
      occur_at: occur + n,
      operator: 'bench',
      event_data: {
        resources: [{ digest: digest(100_000 + n), tag: 'v1', resource_url: `${hb.host}/secret/svc-${String(n).padStart(5, '0')}:v1` }],
        repository: { name: `svc-${String(n).padStart(5, '0')}`, namespace: 'secret', repo_full_name: `secret/svc-${String(n).padStart(5, '0')}`, repo_type: 'private' },
      },
    }, null, { authorization: `Bearer ${harborProjectSecret(hb.webhook.secret, 'secret')}` }),
  );
  for (let i = 0; i < pushes.length; i += 8) await Promise.all(pushes.slice(i, i + 8).map((p) => p()));
  await api('PUT', `/api/v1/registries/${hb.id}/spaces/secret/bindings/team-a`);
  await rt.bus.idle();
  log(`seeded ${PUBLIC + PRIVATE} visible images in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const measures = (p: Page, name: string) => p.evaluate((n) => performance.getEntriesByName(n).map((e) => ({ start: e.startTime, duration: e.duration })), name);
  const clear = (p: Page) => p.evaluate(() => performance.clearMeasures());
  const settledOn = (p: Page, text: string) =>
    p.waitForFunction((t) => (document.querySelector('#status')?.textContent ?? '').includes(t) && document.querySelector('#results')?.getAttribute('aria-busy') === 'false', text);

  await page.goto(`${rt.url}/`);
  await page.fill('#token', reader);
  await page.keyboard.press('Enter');
  await settledOn(page, 'on page 1');
  const snapshotAt = performance.now();
  await page.waitForFunction(() => document.querySelector('#results')?.getAttribute('data-snapshot'), undefined, { timeout: 60_000 });
  log(`the page's copy of the list (${await page.getAttribute('#results', 'data-snapshot')}) loaded in the background in ${(performance.now() - snapshotAt).toFixed(0)} ms`);

  const firstPaint: number[] = [];
  for (let i = 0; i < 20; i++) {
    await page.reload();
    await settledOn(page, 'on page 1');
    const [update] = await measures(page, 'selector:update');
    if (update) firstPaint.push(update.start + update.duration);
  }
  log(`page load → first 50 results on screen (reload, token in the tab): ${summary(firstPaint)}`);
  await page.waitForFunction(() => document.querySelector('#results')?.getAttribute('data-snapshot'), undefined, { timeout: 60_000 });

  const reset = async () => {
    await page.fill('#q', '');
    await page.press('#q', 'Enter');
    await page.waitForFunction(() => /^\d+ images? on page 1 /.test(document.querySelector('#status')?.textContent ?? '') && document.querySelector('#results')?.getAttribute('aria-busy') === 'false');
    await clear(page);
  };
  const renders: number[] = [];
  const locals: number[] = [];
  const searches: number[] = [];
  const queries = ['svc-0123', 'app-0241', 'secret/', 'pub/app-01', 'svc', 'v1', '00042', 'no-such-image'];
  const perQuery = new Map<string, number[]>();
  for (let round = 0; round < 5; round++)
    for (const q of queries) {
      await reset();
      await page.fill('#q', q);
      await page.press('#q', 'Enter');
      await settledOn(page, `matching “${q}” on page 1`);
      const [update] = await measures(page, 'selector:update');
      const [render] = await measures(page, 'selector:render');
      const [local] = await measures(page, 'selector:local');
      if (update) searches.push(update.duration), perQuery.set(q, [...(perQuery.get(q) ?? []), update.duration]);
      if (render) renders.push(render.duration);
      if (local) locals.push(local.duration);
    }
  log(`search → results from the page's copy on screen (filter 5,000 + render): ${summary(locals)}`);
  log(`search → the server's answer on screen (request + render, no debounce), 8 queries incl. one matching nothing: ${summary(searches)}`);
  for (const [q, samples] of perQuery) log(`  server, q=${q}: ${summary(samples)}`);

  const typed: number[] = [];
  const typedLocal: number[] = [];
  for (const q of ['svc-0042', 'app-01234', 'secret/svc-02']) {
    for (let round = 0; round < 5; round++) {
      await reset();
      await page.locator('#q').pressSequentially(q, { delay: 40 });
      const lastKey = await page.evaluate(() => performance.now());
      await settledOn(page, `matching “${q}” on page 1`);
      const [update] = await measures(page, 'selector:update');
      if (update) typed.push(update.start + update.duration - lastKey);
      typedLocal.push(...(await measures(page, 'selector:local')).map((m) => m.duration));
    }
  }
  log(`typing (40 ms between keys) → each keystroke to results from the page's copy on screen: ${summary(typedLocal)}`);
  log(`typing (40 ms between keys) → last key to the server's answer on screen, incl. the 120 ms debounce: ${summary(typed)}`);

  await page.fill('#q', '');
  await page.press('#q', 'Enter');
  await settledOn(page, 'on page 1');
  const nextPages: number[] = [];
  for (let i = 2; i <= 30; i++) {
    await clear(page);
    await page.click('#next');
    await settledOn(page, `on page ${i} `);
    const [update] = await measures(page, 'selector:update');
    if (update) nextPages.push(update.duration);
  }
  log(`next page (50 results) → on screen: ${summary(nextPages)}`);
  log(`DOM render of one page of results: ${summary(renders)}`);

  const opens: number[] = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    await page.locator('button.image').nth(i).click();
    await page.locator('label.tag').first().waitFor();
    opens.push(performance.now() - started);
  }
  log(`open an image → its tags on screen (measured from the test driver): ${summary(opens)}`);
  await context.close();
} finally {
  await browser.close();
  await rt.close();
  rmSync(dataDir, { recursive: true, force: true });
}

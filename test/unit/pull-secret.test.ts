import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it, type TestContext } from 'vitest';
import { parse } from 'yaml';
import {
  dockerConfigJson,
  MANAGED_BY,
  PULL_SECRET_NAME,
  pullSecret,
  pullSecretLabels,
  renderJson,
  renderYaml,
  type PullEntry,
} from '../../shared/kubernetes/pull-secret.ts';
import { fixture, rawFixture } from '../helpers/fixtures.ts';

const robot: PullEntry = { host: 'harbor.example.com', username: 'robot$team-a+ci', password: 's3cr3t-Example-Passw0rd' };
// Strings that go-yaml (YAML 1.1, kubectl) or YAML 1.2 would read as booleans, numbers, null or a time.
const TRICKY = { a: '<b&c> yes', b: 'on', c: '012', d: 'true', e: 'n', f: '1:20', g: '0o17', h: '2001-12-14', i: 'robot$x', j: '~', k: '' };

const decodedConfig = (secret: unknown): unknown => {
  const data = (secret as { data: Record<string, string> }).data['.dockerconfigjson'] ?? '';
  return JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
};

const kubectlOnPath = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
/** kubectl without a cluster: every command here is client-only (`--dry-run=client`, `--local`). */
const kubectl = (ctx: TestContext, args: string[], input?: string): string => {
  if (!kubectlOnPath) {
    if (process.env.CI_NO_KUBECTL === '1') ctx.skip('kubectl is not on PATH and CI_NO_KUBECTL=1');
    throw new Error('kubectl is not on PATH: install Debian package kubernetes-client, or set CI_NO_KUBECTL=1 to skip this check');
  }
  return execFileSync('kubectl', args, { encoding: 'utf8', input, env: { ...process.env, KUBECONFIG: '/dev/null' } });
};
const createDockerRegistry = (ctx: TestContext, output: 'json' | 'yaml', password: string) =>
  kubectl(ctx, ['create', 'secret', 'docker-registry', 'x', '--docker-server=h:5000', '--docker-username=robot$a', `--docker-password=${password}`, '--namespace=n', '--dry-run=client', '-o', output]);

describe('the pull secret', () => {
  it('renders exactly the Secret kubectl create secret docker-registry printed (fixture, byte for byte)', () => {
    const secret = pullSecret('team-a', [robot], { labels: {}, name: 'harbor-pull' });
    expect(renderJson(secret)).toBe(rawFixture('kubernetes/secret-dockerconfigjson.json'));
    expect(dockerConfigJson([robot])).toBe(rawFixture('kubernetes/dockerconfigjson.decoded.json'));
  });

  it('is named platform-registry-pull and labelled by the use case, labels sorted as Go sorts them', () => {
    const secret = pullSecret('shop', [robot], { labels: { 'platform-registry/workspace': 'team-a', 'app.kubernetes.io/managed-by': MANAGED_BY } });
    expect(secret).toMatchObject({ metadata: { name: PULL_SECRET_NAME, namespace: 'shop', labels: pullSecretLabels('team-a') } });
    expect(Object.keys((secret as { metadata: { labels: object } }).metadata.labels)).toEqual(['app.kubernetes.io/managed-by', 'platform-registry/workspace']);
    expect(pullSecretLabels(null)).toEqual({ 'app.kubernetes.io/managed-by': 'platform-image-registry', 'platform-registry/workspace': '' });
    expect(renderJson(pullSecret('shop', [robot], { labels: {}, annotations: {} }))).not.toMatch(/labels|annotations/);
  });

  it('matches the docs-tiger auths entry except for the email kubectl adds with --docker-email (we never send one)', () => {
    const tiger = { host: 'my-registry.example:5000', username: 'tiger', password: 'pass1234' };
    const decoded = fixture('kubernetes/dockerconfigjson.decoded.docs-tiger.json') as { auths: Record<string, { email?: string }> };
    expect(decodedConfig(fixture('kubernetes/secret-dockerconfigjson.docs-tiger.json'))).toEqual(decoded);
    for (const entry of Object.values(decoded.auths)) delete entry.email;
    expect(dockerConfigJson([tiger])).toBe(JSON.stringify(decoded));
  });

  it('keeps robot$ usernames verbatim, in JSON and in YAML read back', () => {
    const secret = pullSecret('team-a', [robot], { labels: pullSecretLabels('team-a'), annotations: { owner: 'robot$team-a+ci' } });
    for (const back of [JSON.parse(renderJson(secret)), parse(renderYaml(secret)), parse(renderYaml(secret), { version: '1.1' })]) {
      expect(decodedConfig(back)).toEqual({ auths: { 'harbor.example.com': { username: 'robot$team-a+ci', password: 's3cr3t-Example-Passw0rd', auth: 'cm9ib3QkdGVhbS1hK2NpOnMzY3IzdC1FeGFtcGxlLVBhc3N3MHJk' } } });
      expect(back.metadata.annotations.owner).toBe('robot$team-a+ci');
    }
    expect(renderYaml(secret)).toContain('    owner: robot$team-a+ci\n');
  });

  it('reads back from YAML (1.2 and 1.1) as the very JSON object, quoting what YAML would misread', () => {
    const secret = pullSecret('n', [robot], { labels: pullSecretLabels(null), annotations: TRICKY });
    const json = JSON.parse(renderJson(secret));
    expect(parse(renderYaml(secret))).toEqual(json);
    expect(parse(renderYaml(secret), { version: '1.1' })).toEqual(json);
    expect(renderYaml(secret)).toContain('    b: "on"\n');
    expect(renderYaml(secret)).toContain('  namespace: "n"\n');
  });

  it('sorts several hosts byte-wise, as Go sorts map keys (not as a JS object orders integer-like keys)', () => {
    const entries = ['harbor.b.example', '9', 'harbor.a.example:5000', '10', 'Zed.example'].map((host) => ({ host, username: 'u', password: 'p' }));
    const hosts = [...dockerConfigJson(entries).matchAll(/"([^"]+)":\{"username"/g)].map((m) => m[1]);
    expect(hosts).toEqual(['10', '9', 'Zed.example', 'harbor.a.example:5000', 'harbor.b.example']);
  });

  it('throws on a host given twice (a programming error), without the password in the message', () => {
    expect(() => dockerConfigJson([robot, { ...robot, password: 'other-Passw0rd' }])).toThrow('pull secret: host harbor.example.com is given twice');
    expect(() => dockerConfigJson([robot, { ...robot, host: 'Harbor.Example.com' }])).toThrow(/given twice/);
  });

  it('refuses what kubelet or docker would misread, naming the field and never the password', () => {
    const bad: [PullEntry, RegExp][] = [
      [{ ...robot, host: 'https://index.docker.io/v1/' }, /is not host\[:port\]/],
      [{ ...robot, host: 'harbor.example.com:65536' }, /is not host\[:port\]/],
      [{ ...robot, username: 'robot:x' }, /username must be/],
      [{ ...robot, password: '' }, /password must be/],
      [{ ...robot, password: `line\n${robot.password}` }, /password must be/],
    ];
    for (const [entry, message] of bad) {
      let error: unknown;
      try {
        dockerConfigJson([entry]);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RangeError);
      expect(String(error)).toMatch(message);
      expect(String(error)).not.toContain(robot.password);
    }
    expect(dockerConfigJson([{ ...robot, host: '[::1]:5000' }])).toContain('"[::1]:5000"');
    expect(() => pullSecret('Team_A', [robot], { labels: {} })).toThrow(/not an RFC 1123 label/);
    expect(() => pullSecret('team-a', [robot], { labels: { 'platform-registry/workspace': 'x'.repeat(64) } })).toThrow(/label value/);
  });

  it('refuses a Secret over the 1 MiB Kubernetes accepts', () => {
    const entries = Array.from({ length: 120 }, (_, i) => ({ host: `h${i}.example`, username: 'u', password: 'p'.repeat(4096) }));
    expect(() => pullSecret('team-a', entries, { labels: {} })).toThrow(/exceed Kubernetes' 1 MiB/);
    expect(() => pullSecret('team-a', entries.slice(0, 60), { labels: {} })).not.toThrow();
  });

  it('is what kubectl itself prints, JSON and YAML, with Go escapes for <, & and >', (ctx) => {
    for (const password of ['p', 'p<&>']) {
      const ours = pullSecret('n', [{ host: 'h:5000', username: 'robot$a', password }], { labels: {}, name: 'x' });
      expect(renderJson(ours)).toBe(createDockerRegistry(ctx, 'json', password));
      expect(renderYaml(ours)).toBe(createDockerRegistry(ctx, 'yaml', password));
    }
  });

  it('is read by kubectl (go-yaml, YAML 1.1) as the same object, labels and tricky annotations included', (ctx) => {
    const ours = pullSecret('n', [{ host: 'h:5000', username: 'robot$a', password: 'p' }], { labels: pullSecretLabels('team-a'), annotations: TRICKY, name: 'x' });
    for (const rendered of [renderJson(ours), renderYaml(ours)]) {
      const back = JSON.parse(kubectl(ctx, ['label', '--local', '-f', '-', 'probe=1', '-o', 'json'], rendered));
      delete back.metadata.labels.probe;
      expect(back).toEqual(JSON.parse(renderJson(ours)));
    }
  });
});

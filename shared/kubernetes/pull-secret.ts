import { Label } from '../domain/model.ts';
import { goEscape, toYaml } from './yaml.ts';

/** The name of the pull Secret in every namespace (and in the `default` ServiceAccount's `imagePullSecrets`). */
export const PULL_SECRET_NAME = 'platform-registry-pull';
/** Value of the `app.kubernetes.io/managed-by` label on every pull Secret. */
export const MANAGED_BY = 'platform-image-registry';
/** Label keys of the pull Secret: who manages it, and the workspace its namespace belonged to when rendered. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const WORKSPACE_LABEL = 'platform-registry/workspace';
/** Kubernetes refuses a Secret whose data exceeds 1 MiB; we refuse to render one. */
export const MAX_SECRET_BYTES = 1024 * 1024;

/** One auths entry: the registry host as pulled (host[:port]), and the credentials. */
export type PullEntry = { host: string; username: string; password: string };
export type PullSecretMeta = {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  /** Defaults to {@link PULL_SECRET_NAME}; only comparisons with kubectl's own output name it. */
  name?: string;
};

/** The labels the use case passes: `managed-by`, and the namespace's workspace id (empty when it has none). */
export const pullSecretLabels = (workspaceId: string | null): Record<string, string> => ({
  [MANAGED_BY_LABEL]: MANAGED_BY,
  // Empty for none: any label value could be a workspace id.
  [WORKSPACE_LABEL]: workspaceId ?? '',
});

// host[:port] as an image reference names it: DNS labels (distribution/reference allows upper case) or a bracketed IPv6.
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]{2,45}\])(?::(\d{1,5}))?$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
const QUALIFIED_NAME = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(?:(?:[A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const ARRAY_INDEX = /^(?:0|[1-9]\d*)$/;

/**
 * Go's `encoding/json` (what kubectl prints with) escapes `<`, `>`, `&`, U+2028 and U+2029 inside strings; the
 * characters can only occur inside strings, so rewriting the whole text is exact.
 */
const goJson = (value: unknown): string => goEscape(JSON.stringify(value));
const byBytes = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Why `entry` cannot go into a pull secret (a malformed host, a username with `:`, ...); undefined when it can. Never names the password. */
export const entryProblem = (entry: PullEntry, index = 0): string | undefined => {
  try {
    checkEntry(entry, index);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
};

const checkEntry = (entry: PullEntry, index: number): void => {
  const where = `pull secret entry ${index}`;
  const host = HOST.exec(entry.host);
  if (!host || entry.host.length > 261 || (host[1] !== undefined && Number(host[1]) > 65535)) {
    throw new RangeError(`${where}: host ${JSON.stringify(entry.host.slice(0, 300))} is not host[:port]`);
  }
  // docker splits `auth` at the first colon, so a colon in the username would change who logs in.
  if (entry.username.length < 1 || entry.username.length > 255 || entry.username.includes(':') || CONTROL.test(entry.username)) {
    throw new RangeError(`${where} (${entry.host}): the username must be 1-255 characters without ':' or control characters`);
  }
  if (entry.password.length < 1 || entry.password.length > 4096 || CONTROL.test(entry.password)) {
    throw new RangeError(`${where} (${entry.host}): the password must be 1-4096 characters without control characters`);
  }
};

/**
 * `.dockerconfigjson` exactly as `kubectl create secret docker-registry` writes it: compact JSON
 * `{"auths":{host:{"username","password","auth"}}}` (no email), `auth` = base64(username:password), hosts sorted
 * byte-wise as Go sorts map keys. Throws on a malformed entry or a host given twice (case-insensitively): both are
 * programming errors of the caller. Messages never contain a password.
 */
export const dockerConfigJson = (entries: PullEntry[]): string => {
  entries.forEach(checkEntry);
  const seen = new Set<string>();
  for (const { host } of entries) {
    const key = host.toLowerCase();
    if (seen.has(key)) throw new Error(`pull secret: host ${host} is given twice`);
    seen.add(key);
  }
  // Built by hand: a JS object would put integer-like keys first, Go sorts all keys as bytes.
  const auths = [...entries]
    .sort((a, b) => byBytes(a.host, b.host))
    .map(({ host, username, password }) => {
      const auth = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
      return `${goJson(host)}:{"username":${goJson(username)},"password":${goJson(password)},"auth":${goJson(auth)}}`;
    });
  return `{"auths":{${auths.join(',')}}}`;
};

const checkKey = (kind: string, key: string): void => {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  const prefixOk = prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
  if (!prefixOk || !QUALIFIED_NAME.test(name) || ARRAY_INDEX.test(key)) {
    throw new RangeError(`pull secret: ${kind} key ${JSON.stringify(key.slice(0, 300))} is not a Kubernetes qualified name`);
  }
};

const sortedMap = (kind: 'label' | 'annotation', map: Record<string, string>): Record<string, string> | undefined => {
  const keys = Object.keys(map).sort(byBytes);
  if (keys.length === 0) return undefined;
  let size = 0;
  for (const key of keys) {
    checkKey(kind, key);
    const value = map[key] ?? '';
    if (kind === 'label' && !LABEL_VALUE.test(value)) {
      throw new RangeError(`pull secret: label ${key} has a value that is not a Kubernetes label value (at most 63 characters)`);
    }
    size += key.length + value.length;
  }
  // The API server's limit on all annotations of an object.
  if (kind === 'annotation' && size > 256 * 1024) throw new RangeError('pull secret: annotations exceed 256 KiB');
  return Object.fromEntries(keys.map((k) => [k, map[k] ?? '']));
};

/**
 * The Secret object in kubectl's key order: kind, apiVersion, metadata {name, namespace, creationTimestamp: null,
 * labels, annotations}, data {".dockerconfigjson": base64}, type. Empty labels and annotations are left out (as
 * kubectl leaves them out); label and annotation keys are sorted as Go sorts map keys. Throws on a namespace that is
 * not an RFC 1123 label, a bad label, or a Secret over {@link MAX_SECRET_BYTES}.
 */
export const pullSecret = (namespace: string, entries: PullEntry[], meta: PullSecretMeta): object => {
  if (!Label.safeParse(namespace).success) {
    throw new RangeError(`pull secret: namespace ${JSON.stringify(namespace.slice(0, 100))} is not an RFC 1123 label`);
  }
  const name = meta.name ?? PULL_SECRET_NAME;
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) throw new RangeError(`pull secret: name ${JSON.stringify(name.slice(0, 300))} is not a DNS subdomain`);
  const labels = sortedMap('label', meta.labels);
  const annotations = meta.annotations && sortedMap('annotation', meta.annotations);
  const data = Buffer.from(dockerConfigJson(entries), 'utf8').toString('base64');
  if (data.length > MAX_SECRET_BYTES) throw new RangeError(`pull secret: ${entries.length} entries exceed Kubernetes' 1 MiB Secret limit`);
  return {
    kind: 'Secret',
    apiVersion: 'v1',
    metadata: {
      name,
      namespace,
      creationTimestamp: null,
      ...(labels && { labels }),
      ...(annotations && { annotations }),
    },
    data: { '.dockerconfigjson': data },
    type: 'kubernetes.io/dockerconfigjson',
  };
};

/** JSON as `kubectl … -o json` prints it: 4-space indent, Go's HTML-safe escapes, one trailing newline. */
export const renderJson = (secret: object): string => `${goEscape(JSON.stringify(secret, null, 4))}\n`;

/** YAML of the same object as `kubectl … -o yaml` lays it out: keys sorted, 2-space indent (see `toYaml`). */
export const renderYaml = (secret: object): string => toYaml(secret);

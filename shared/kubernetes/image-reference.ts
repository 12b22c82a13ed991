/**
 * Image references as Kubernetes, containerd and Docker read them: distribution/reference
 * (`ParseNormalizedNamed` + `ParseDockerRef` @ 0965666a), ported by structure rather than by its one big
 * regular expression. Go's RE2 is linear; a backtracking engine on the same pattern is not obviously so, so the
 * input is split at its fixed delimiters (`@`, the tag's `:`, `/`) and each piece is checked by a pattern in
 * which every repetition is followed by characters it cannot itself match (one way to match, no backtracking).
 */

/** A parsed reference. `tag`/`digest` are null when the input has none (no `latest` is added here). */
export type ImageReference = {
  /** The registry host[:port] as written (`docker.io` for Docker Hub); compare hosts with {@link hostKey}. */
  domain: string;
  path: string;
  tag: string | null;
  digest: string | null;
  /** Canonical `domain/path[:tag][@digest]`. */
  string: string;
  /** What `docker` prints: without `docker.io/` and `library/`. */
  familiar: string;
  /** What the runtime pulls (`ParseDockerRef`): `:latest` added when there is neither tag nor digest, the tag dropped when both are. */
  dockerRef: string;
};
export type ImageReferenceResult = ({ ok: true } & ImageReference) | { ok: false; error: string };

/** Longer input is refused before any pattern runs (a container image field has no limit of its own). */
export const MAX_IMAGE_REFERENCE_LENGTH = 4096;
/** distribution/reference's `RepositoryNameTotalLengthMax`; since distribution/reference#9 it bounds the path only. */
const MAX_PATH_LENGTH = 255;
const ECHO_LENGTH = 128;
/** `ErrReferenceInvalidFormat`: the input does not fit the grammar at all. */
const INVALID_FORMAT = 'invalid reference format';

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';

const IDENTIFIER = /^[a-f0-9]{64}$/;
const DOMAIN_COMPONENT = /^[A-Za-z0-9-]+$/;
const IPV6 = /^\[[A-Fa-f0-9:]+\]$/;
const PORT = /^[0-9]+$/;
// Separators `.`, `_`, `__`, `-+` start with three different characters, none of them alphanumeric.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_{1,2}|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST_ALGORITHM = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*$/;
const DIGEST_HEX = /^[0-9A-Fa-f]{32,}$/;
/** go-digest's registered algorithms (sha384/sha512 need crypto/sha512, which every runtime links) and their lower-case hex length. */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

const quote = (input: string): string =>
  JSON.stringify(input.slice(0, ECHO_LENGTH)) + (input.length > ECHO_LENGTH ? `… (${input.length} characters)` : '');
const refuse = (input: string, why: string): ImageReferenceResult => ({ ok: false, error: `invalid image reference ${quote(input)}: ${why}` });

/** `domainAndPort`: DNS-ish labels, an IPv4 address or a bracketed IPv6 address, then an optional numeric port. */
const isDomain = (domain: string): boolean => {
  const close = domain.startsWith('[') ? domain.indexOf(']') : -1;
  const hostEnd = close >= 0 ? close + 1 : domain.indexOf(':') >= 0 ? domain.indexOf(':') : domain.length;
  const host = domain.slice(0, hostEnd);
  const port = domain.slice(hostEnd);
  if (port !== '' && !(port.startsWith(':') && PORT.test(port.slice(1)))) return false;
  if (close >= 0) return IPV6.test(host);
  return host.split('.').every((label) => DOMAIN_COMPONENT.test(label) && !label.startsWith('-') && !label.endsWith('-'));
};

const isPath = (path: string): boolean => path.split('/').every((component) => PATH_COMPONENT.test(component));

type Parsed = { domain: string; path: string; tag: string | null; digest: string | null };

/**
 * distribution/reference `Parse`: `name [":" tag] ["@" digest]`. No part of a name contains `@`, a tag contains
 * neither `/` nor `:`, and a path contains no `:`, so the delimiters below are the only places the Go pattern can
 * split. Like the pattern, it prefers a domain (the first segment) and otherwise reads the whole name as a path.
 */
const parse = (ref: string): Parsed | string => {
  const at = ref.indexOf('@');
  const nameAndTag = at >= 0 ? ref.slice(0, at) : ref;
  const digest = at >= 0 ? ref.slice(at + 1) : null;
  const colon = nameAndTag.indexOf(':', nameAndTag.lastIndexOf('/') + 1);
  const name = colon >= 0 ? nameAndTag.slice(0, colon) : nameAndTag;
  const tag = colon >= 0 ? nameAndTag.slice(colon + 1) : null;
  if (tag !== null && !TAG.test(tag)) return INVALID_FORMAT;
  const digestColon = digest === null ? -1 : digest.indexOf(':');
  if (digest !== null && !(digestColon > 0 && DIGEST_ALGORITHM.test(digest.slice(0, digestColon)) && DIGEST_HEX.test(digest.slice(digestColon + 1)))) {
    return INVALID_FORMAT;
  }
  const slash = name.indexOf('/');
  let repository: { domain: string; path: string };
  if (slash >= 0 && isDomain(name.slice(0, slash)) && isPath(name.slice(slash + 1))) {
    repository = { domain: name.slice(0, slash), path: name.slice(slash + 1) };
  } else if (isPath(name)) {
    // Go's quirk, kept: `a_b.com/foo` is no domain (`_`) but a valid path, so the domain is empty.
    repository = { domain: '', path: name };
  } else {
    return INVALID_FORMAT;
  }
  if (repository.path.length > MAX_PATH_LENGTH) return `repository name must not be more than ${MAX_PATH_LENGTH} characters`;
  if (digest !== null) {
    const algorithm = digest.slice(0, digestColon);
    const hex = digest.slice(digestColon + 1);
    const length = Object.hasOwn(DIGEST_HEX_LENGTH, algorithm) ? DIGEST_HEX_LENGTH[algorithm] : undefined;
    if (length === undefined) return `unsupported digest algorithm ${JSON.stringify(algorithm.slice(0, 32))}`;
    if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) return `a ${algorithm} digest is ${length} lower-case hex characters`;
  }
  return { ...repository, tag, digest };
};

/** `splitDockerDomain`: which first segment names a registry, and Docker Hub's `library/` for one-segment names. */
const splitDockerDomain = (name: string): { domain: string; remainder: string } => {
  const slash = name.indexOf('/');
  if (slash < 0) return { domain: DEFAULT_DOMAIN, remainder: OFFICIAL_PREFIX + name };
  const first = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  let split: { domain: string; remainder: string };
  if (first === LEGACY_DEFAULT_DOMAIN) split = { domain: DEFAULT_DOMAIN, remainder: rest };
  else if (first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first) split = { domain: first, remainder: rest };
  else split = { domain: DEFAULT_DOMAIN, remainder: name };
  if (split.domain === DEFAULT_DOMAIN && !split.remainder.includes('/')) split.remainder = OFFICIAL_PREFIX + split.remainder;
  return split;
};

const nameOf = ({ domain, path }: { domain: string; path: string }): string => (domain === '' ? path : `${domain}/${path}`);
const withSuffix = (name: string, tag: string | null, digest: string | null): string =>
  name + (tag === null ? '' : `:${tag}`) + (digest === null ? '' : `@${digest}`);

/** `familiarizeName`: Docker Hub loses its domain, and `library/` goes only when nothing nests below it. */
const familiarName = ({ domain, path }: { domain: string; path: string }): string => {
  if (domain !== DEFAULT_DOMAIN) return nameOf({ domain, path });
  const official = path.startsWith(OFFICIAL_PREFIX) ? path.slice(OFFICIAL_PREFIX.length) : null;
  return official !== null && !official.includes('/') ? official : path;
};

/**
 * Normalises an image reference exactly as the container runtime will (`nginx` → `docker.io/library/nginx`,
 * pulled as `docker.io/library/nginx:latest`). The API server never rewrites `image`, so a webhook must do this
 * itself. Errors say what is wrong and echo the input JSON-escaped, cut to 128 characters (never over 256 in all).
 */
export const normalizeImageReference = (input: string): ImageReferenceResult => {
  if (input.length > MAX_IMAGE_REFERENCE_LENGTH) {
    return { ok: false, error: `invalid image reference: ${input.length} characters, at most ${MAX_IMAGE_REFERENCE_LENGTH} are accepted` };
  }
  if (IDENTIFIER.test(input)) return refuse(input, 'a 64-character hexadecimal string is an image id, not a repository name');
  const { domain, remainder } = splitDockerDomain(input);
  const colon = remainder.indexOf(':');
  const remote = colon >= 0 ? remainder.slice(0, colon) : remainder;
  if (remote.toLowerCase() !== remote) return refuse(input, 'repository name (before the tag) must be lowercase');
  const full = `${domain}/${remainder}`;
  const parsed = parse(full);
  if (typeof parsed === 'string') {
    const lower = full.toLowerCase();
    // Go's hint, given only when the grammar fails: the one thing wrong is upper case where it is not allowed.
    const onlyCase = parsed === INVALID_FORMAT && lower !== full && typeof parse(lower) !== 'string';
    return refuse(input, onlyCase ? 'repository name must be lowercase' : parsed);
  }
  const name = nameOf(parsed);
  const { tag, digest } = parsed;
  return {
    ok: true,
    ...parsed,
    string: withSuffix(name, tag, digest),
    familiar: withSuffix(familiarName(parsed), tag, digest),
    // ParseDockerRef: the digest decides what is pulled, so a tag beside it is dropped.
    dockerRef: digest !== null ? withSuffix(name, null, digest) : withSuffix(name, tag ?? 'latest', null),
  };
};

/**
 * How two registry hosts are compared: case-insensitively (DNS), with the port read as a number (Go reads `:0443` as
 * 443), and with containerd's https default port `:443` removed, so `Harbor.example.com:0443` and
 * `harbor.example.com` are one host.
 */
export const hostKey = (domain: string): string => {
  const lower = domain.toLowerCase();
  const port = /:(\d+)$/.exec(lower);
  if (!port?.[1]) return lower;
  const host = lower.slice(0, port.index);
  const number = String(Number(port[1]));
  return number === '443' ? host : `${host}:${number}`;
};

/**
 * Whether the container runtime would read `image` as a local image ID rather than a name: `sha256:<hex>` (any
 * digest with no `/`), or a short hex prefix (containerd resolves both against the images a node already has). Such a
 * spelling runs whatever the node cached — another workspace's private image included — without a pull.
 */
export const isImageId = (image: string): boolean => /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{6,}$/.test(image) || /^[0-9a-f]{6,64}(?::[\w][\w.-]{0,127})?$/.test(image);

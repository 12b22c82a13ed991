import { ADMISSION_REFUSED_LOG, ALWAYS_EXEMPT, type Cluster, type RefusedImage } from '../domain/admission.ts';
import { imageRef, Label, splitPath, type Namespace, type Registry } from '../domain/model.ts';
import { audiencesOfNamespace, maySelect } from '../domain/rule.ts';
import { systemCaller } from '../domain/caller.ts';
import type { Deps } from '../deps.ts';
import { AdmissionReviewV1, imagesOf, reviewResponse, ReviewShapeError, type PodImage } from '../kubernetes/admission-review.ts';
import { hostKey, isImageId, normalizeImageReference } from '../kubernetes/image-reference.ts';
import { logger } from '../logger.ts';
import { mapLimit } from '../registries/pool.ts';
import { explainImage, type ExplainFact } from './explain.ts';

/** The review explains a refusal with the whole chain; `tenantReason` decides what the tenant is told. */
const REVIEWER = systemCaller('review-admission');

export { AdmissionReviewV1 };
type AdmissionReview = AdmissionReviewV1;

/** Refused images explained in one answer (each costs an explain); the rest get the short reason. */
const MAX_EXPLAINED = 10;
/** Refused images kept in one decision log entry. */
const MAX_LOGGED = 20;
/** The API server drops warnings past 4,096 runes in all and may cut each past 256 (apiserver `filters/warning.go`). */
const MAX_WARNINGS = 12;
const WARNING_RUNES = 256;
const MESSAGE_CHARS = 4096;

/** Text from the object (an image string) made safe to echo: no control characters, bounded. */
const printable = (text: string, max = 200) => {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
};
const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

const answerOf = (uid: string, allowed: boolean, message?: string, warnings: string[] = []) =>
  reviewResponse(uid, { allowed, ...(message ? { message: cut(message, MESSAGE_CHARS) } : {}), warnings: warnings.slice(0, MAX_WARNINGS).map((w) => cut(w, WARNING_RUNES)) });

type Verdict = { outcome: 'allowed' } | { outcome: 'unmanaged'; host: string } | { outcome: 'refused'; link: string; reason: string; explainAs?: string };

/** Distinct images judged in one review; a Pod with more is refused unread (each costs reads, and a hostile object would make the review outlast the API server's timeout). */
export const MAX_DISTINCT_IMAGES = 64;

/**
 * The images a review asks about: on UPDATE only those the old object did not have already (they were admitted then,
 * and a label change or a finalizer removal must never be stopped by an image that is no longer selectable). An
 * object that cannot be read (`ReviewShapeError`) is `unreadable`: refused, never answered 400 — under
 * `failurePolicy: Ignore` an error answer would admit it.
 */
const imagesToCheck = (review: AdmissionReview): { images: PodImage[] } | { unreadable: RefusedImage } => {
  try {
    const images = imagesOf(review.request.object);
    if (review.request.operation !== 'UPDATE') return { images };
    const before = new Set(imagesOf(review.request.oldObject).map((i) => i.image));
    return { images: images.filter((i) => !before.has(i.image)) };
  } catch (error) {
    if (!(error instanceof ReviewShapeError)) throw error;
    return { unreadable: { image: '', container: '', field: error.field, link: 'object', reason: `the object cannot be checked: ${error.message}` } };
  }
};

/**
 * The words of a refusal as the workload's author may read them: explain's for the links after the grant (the space is
 * public or bound to the namespace's workspace, so nothing is revealed), one sentence for everything before it — whether
 * a private space exists, and whom it is bound to, stays with the admins (they have explain).
 */
const tenantReason = (fact: ExplainFact | null, nsName: string, ns: Namespace | undefined) => {
  if (fact && (fact.link === 'repository' || fact.link === 'index' || fact.link === 'tag')) return { link: fact.link, reason: fact.statement };
  if (!ns?.workspaceId) return { link: 'namespace', reason: `namespace ${nsName} ${ns ? 'is bound to no workspace' : 'is not registered'}: it may use public images only, and this is not one` };
  return { link: 'grant', reason: `not offered to workspace ${ns.workspaceId}: no public space and no space bound to ${ns.workspaceId} holds it` };
};

/**
 * Decides one review of the cluster's validating admission webhook. An image on a host a connected registry serves is
 * allowed iff the namespace may select its repository under the rule: an index row of one of the namespace's audiences,
 * confirmed against the truth (the space and its bindings, read consistently), so a revocation the indexer has not
 * applied yet already refuses. Tag and digest are not checked (a tag not yet indexed is allowed when its repository is).
 * Unmanaged hosts follow `unmanagedImages`; exempt namespaces, DELETE and CONNECT are allowed untouched. Audit mode
 * allows everything and warns what it would refuse. Refusals are counted and logged (not for a dry run).
 */
export const reviewAdmission = async (cluster: Cluster, review: AdmissionReview, deps: Deps) => {
  const request = review.request;
  const answer = (allowed: boolean) => answerOf(request.uid, allowed);
  const namespace = request.namespace ?? '';
  if (request.operation === 'DELETE' || request.operation === 'CONNECT') return answer(true);
  if ((ALWAYS_EXEMPT as readonly string[]).includes(namespace) || cluster.exemptNamespaces.includes(namespace)) return answer(true);
  const nsName = `${cluster.cluster}/${namespace || '(no namespace)'}`;
  const checked = imagesToCheck(review);
  const distinct = 'images' in checked ? new Set(checked.images.map((i) => i.image)).size : 0;
  if ('unreadable' in checked || distinct > MAX_DISTINCT_IMAGES) {
    const refusal = 'unreadable' in checked
      ? checked.unreadable
      : { image: '', container: '', field: 'spec', link: 'object', reason: `the object has ${distinct} distinct images, more than the ${MAX_DISTINCT_IMAGES} one review checks` };
    return conclude(deps, cluster, review, nsName, [refusal], []);
  }
  const { images } = checked;
  if (images.length === 0) return answer(true);

  const [ns, registries] = await Promise.all([
    Label.safeParse(namespace).success ? deps.store.tenancy.getNamespace(cluster.cluster, namespace) : undefined,
    deps.store.registries.list(),
  ]);
  const audiences = audiencesOfNamespace(ns?.workspaceId);
  // Whether the namespace may select a space under the rule, read from the truth (once per space and review).
  const spaceAllows = new Map<string, Promise<boolean>>();
  const truthAllows = (registry: Registry, space: string) => {
    const key = `${registry.id}/${space}`;
    let allows = spaceAllows.get(key);
    if (!allows) {
      allows = Promise.all([deps.store.spaces.getLive(registry.id, space), ns?.workspaceId ? deps.store.spaces.binding(registry.id, space, ns.workspaceId) : undefined]).then(
        ([live, binding]) =>
          !!live &&
          maySelect({ visibility: live.visibility, boundWorkspaces: binding ? [binding.workspaceId] : [], owner: registry.ownerWorkspaceId }, ns?.workspaceId),
      );
      spaceAllows.set(key, allows);
    }
    return allows;
  };

  const verdictOf = async (image: string): Promise<Verdict> => {
    if (isImageId(image)) return { outcome: 'refused', link: 'reference', reason: 'an image ID, not a reference: the node would run whatever it has cached under it, unchecked' };
    const ref = normalizeImageReference(image);
    if (!ref.ok) return { outcome: 'refused', link: 'reference', reason: `not a valid image reference (${ref.error})` };
    // distribution/reference leaves the domain empty when the first segment is neither a host nor `docker.io`'s path.
    if (!ref.domain) return { outcome: 'refused', link: 'reference', reason: 'not a valid image reference (its registry host is not a valid host name)' };
    const served: Registry[] = registries.filter((r) => hostKey(r.host) === hostKey(ref.domain));
    if (served.length === 0) return { outcome: 'unmanaged', host: ref.domain };
    const { space } = splitPath(ref.path);
    // The index row and the truth behind it, read together: one round trip.
    const allowed = await Promise.all(
      served.map(async (r) => {
        const [rows, truth] = await Promise.all([Promise.all(audiences.map((a) => deps.store.index.get(a, imageRef(r.host, ref.path)))), truthAllows(r, space)]);
        return truth && rows.some((row) => row?.registryId === r.id && row.space === space);
      }),
    );
    return allowed.includes(true) ? { outcome: 'allowed' } : { outcome: 'refused', link: 'grant', reason: '', explainAs: imageRef(served[0]!.host, ref.path) };
  };

  const decided = new Map(await mapLimit([...new Set(images.map((i) => i.image))], 8, async (image) => [image, await verdictOf(image)] as const));
  // Explain the first refused images in the tenant's words; the others keep the short reason.
  let explained = 0;
  await mapLimit([...decided.values()], 4, async (v) => {
    if (v.outcome !== 'refused' || !v.explainAs) return;
    const fact = explained++ < MAX_EXPLAINED ? await explainImage(cluster.cluster, namespace, v.explainAs, REVIEWER, deps).then((e) => e.missingLink, () => null) : null;
    Object.assign(v, tenantReason(fact, nsName, ns));
  });

  const refused: RefusedImage[] = [];
  const warnings: string[] = [];
  for (const i of images) {
    const v = decided.get(i.image)!;
    const what = whereOf(i);
    if (v.outcome === 'unmanaged' && cluster.unmanagedImages === 'allow') warnings.push(`${what}: host ${printable(v.host, 100)} is not a registry the platform manages; allowed (unmanagedImages: allow)`);
    else if (v.outcome === 'unmanaged')
      refused.push({ image: printable(i.image, 1024), container: i.container, field: i.field, link: 'unmanaged', reason: `host ${printable(v.host, 100)} is not a registry the platform manages, and cluster ${cluster.cluster} refuses unmanaged images` });
    else if (v.outcome === 'refused') refused.push({ image: printable(i.image, 1024), container: i.container, field: i.field, link: v.link, reason: v.reason });
  }
  return conclude(deps, cluster, review, nsName, refused, warnings);
};

const whereOf = (r: Pick<RefusedImage, 'container' | 'field' | 'image'>) => `${r.container ? `container ${printable(r.container, 63)}` : r.field}${r.image ? ` (${printable(r.image)})` : ''}`;

/** The answer: allowed with the warnings when nothing is refused; else recorded (not for a dry run), then refused, or allowed with warnings in audit mode. */
const conclude = async (deps: Deps, cluster: Cluster, review: AdmissionReview, nsName: string, refused: RefusedImage[], warnings: string[]) => {
  const request = review.request;
  if (refused.length === 0) return answerOf(request.uid, true, undefined, warnings);
  if (!request.dryRun) await record(deps, cluster, review, refused);
  const lines = refused.map((r) => `${whereOf(r)}: ${r.reason}`);
  if (cluster.mode === 'audit') return answerOf(request.uid, true, undefined, [...lines.map((l) => `audit: would refuse ${l}`), ...warnings]);
  return answerOf(request.uid, false, `${refused.length === 1 ? 'an image is' : `${refused.length} images are`} not allowed in namespace ${nsName}: ${lines.join('; ')}`, warnings);
};

/**
 * Counts the refusal (the log line is the metric: the stack counts it as `AdmissionRefusals` by cluster and mode) and keeps it in the
 * cluster's decision log. Best effort: the answer to the API server never waits on a failed write.
 */
const record = async (deps: Deps, cluster: Cluster, review: AdmissionReview, refused: RefusedImage[]) => {
  const request = review.request;
  logger.info(ADMISSION_REFUSED_LOG, { cluster: cluster.cluster, mode: cluster.mode, namespace: request.namespace, kind: request.kind.kind, refused: refused.length });
  try {
    await deps.store.clusters.recordDecision(cluster.cluster, {
      at: deps.clock().toISOString(),
      uid: request.uid,
      mode: cluster.mode,
      enforced: cluster.mode === 'enforce',
      namespace: request.namespace ?? '',
      operation: request.operation,
      kind: `${request.kind.group ? `${request.kind.group}/` : ''}${request.kind.kind}`,
      ...(request.name ? { name: request.name } : {}),
      ...(request.userInfo?.username ? { user: cut(request.userInfo.username, 512) } : {}),
      images: refused.slice(0, MAX_LOGGED),
      ...(refused.length > MAX_LOGGED ? { moreImages: refused.length - MAX_LOGGED } : {}),
    });
  } catch (error) {
    logger.warn('admission decision not recorded', { cluster: cluster.cluster, error: String(error) });
  }
};

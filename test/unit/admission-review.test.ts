import { describe, expect, it } from 'vitest';
import { DomainError } from '../../shared/errors.ts';
import {
  AdmissionReviewV1,
  imagesOf,
  MAX_CONTAINERS,
  reviewResponse,
  ReviewShapeError,
  type PodImage,
} from '../../shared/kubernetes/admission-review.ts';
import { fixture } from '../helpers/fixtures.ts';

const CLI = '127.0.0.1:5000/tools/cli@sha256:b895725a79793f4f2f774dd7a14f46904ac614376924c1d19c76ada78cd36718';
const CHARLIE = 'securesystemsengineering/charlie-image@sha256:91ac9b26df583762234c1cdb2fc930364754ccc59bc752a2bfe298d2ea68f9ff';
const image = (field: string, container: string, ref: string): PodImage => ({ field, container, image: ref });

/** Every request fixture, whether AdmissionReviewV1 accepts it, and the images of its object and oldObject (read by hand). */
const REQUESTS: { file: string; parses: boolean; object: PodImage[]; oldObject: PodImage[] }[] = [
  {
    file: 'admissionreview-v1-pod-create.json',
    parses: true,
    object: [
      image('spec.initContainers[0]', 'wait-for-db', 'docker.io/library/busybox:1.36'),
      image('spec.initContainers[1]', 'migrate', CLI),
      image('spec.containers[0]', 'api', 'harbor.example.com/team-a/api:1.4.2'),
      image('spec.containers[1]', 'proxy', 'nginx'),
    ],
    oldObject: [],
  },
  {
    file: 'admissionreview-v1-pod-create.captured-c7n-kind.json',
    parses: true,
    object: [image('spec.containers[0]', 'nginx', 'nginx:1.14.2')],
    oldObject: [],
  },
  {
    file: 'admissionreview-v1-pod-create-by-replicaset-controller.json',
    parses: true,
    object: [
      image('spec.initContainers[0]', 'wait-for-db', 'docker.io/library/busybox:1.36'),
      image('spec.containers[0]', 'api', 'harbor.example.com/team-a/api:1.4.2'),
      image('spec.containers[1]', 'metrics-sidecar', 'registry.k8s.io/pause:3.9'),
    ],
    oldObject: [],
  },
  {
    file: 'admissionreview-v1-pod-create-by-replicaset-controller.captured-edcelvista.json',
    parses: true,
    object: [image('spec.containers[0]', 'demo-crd-resource', 'edcelvista/ubuntu24-network-tools:v13-k8s-crd')],
    oldObject: [],
  },
  {
    file: 'admissionreview-v1-deployment-create.json',
    parses: true,
    object: [
      image('spec.template.spec.initContainers[0]', 'wait-for-db', 'docker.io/library/busybox:1.36'),
      image('spec.template.spec.containers[0]', 'api', 'harbor.example.com/team-a/api:1.4.2'),
      image('spec.template.spec.containers[1]', 'metrics-sidecar', 'registry.k8s.io/pause:3.9'),
    ],
    oldObject: [],
  },
  {
    file: 'admissionreview-v1-cronjob-create.json',
    parses: true,
    object: [
      image('spec.jobTemplate.spec.template.spec.initContainers[0]', 'fetch-config', CLI),
      image(
        'spec.jobTemplate.spec.template.spec.containers[0]',
        'report',
        'harbor.example.com/team-a/nightly-report:2.0.1@sha256:d297d577cd391aa923880944e6da010ed31270f2a946fd87e2b841689b3704b4',
      ),
    ],
    oldObject: [],
  },
  {
    file: 'admissionreview-v1-pod-ephemeralcontainers-update.json',
    parses: true,
    object: [
      image('spec.containers[0]', 'pause-demo', 'registry.k8s.io/pause:3.9'),
      image('spec.ephemeralContainers[0]', 'debugger-7hq2s', 'docker.io/library/busybox:1.36'),
    ],
    oldObject: [image('spec.containers[0]', 'pause-demo', 'registry.k8s.io/pause:3.9')],
  },
  // The docs' Scale subresource update: objects without any pod spec.
  { file: 'admissionreview-v1-request.docs.json', parses: true, object: [], oldObject: [] },
  // v1, hand-edited: `"oldObject": {}` is still a JSON object, and `dryRun` outside `request` is an unknown field.
  {
    file: 'thirdparty-connaisseur-19_pod_initcontainer.json',
    parses: true,
    object: [image('spec.initContainers[0]', 'my-initcontainer', 'nginx'), image('spec.containers[0]', 'test-connaisseur', CHARLIE)],
    oldObject: [],
  },
  {
    file: 'thirdparty-connaisseur-20_pod_ephemeralcontainer.json',
    parses: true,
    object: [image('spec.containers[0]', 'test-connaisseur', CHARLIE), image('spec.ephemeralContainers[0]', 'my-initcontainer', 'nginx')],
    oldObject: [],
  },
  {
    file: 'thirdparty-connaisseur-01_deployment.json',
    parses: false,
    object: [image('spec.template.spec.containers[0]', 'test-connaisseur', 'securesystemsengineering/alice-image:test')],
    oldObject: [],
  },
  {
    file: 'thirdparty-connaisseur-04_cronjob.json',
    parses: false,
    object: [image('spec.jobTemplate.spec.template.spec.containers[0]', 'yooob', 'busybox')],
    oldObject: [],
  },
];

const requestOf = (body: unknown) => (body as { request: { object?: unknown; oldObject?: unknown } }).request;
/** A valid review to vary: the pod-create fixture, parsed. */
const podCreate = () => AdmissionReviewV1.parse(fixture('kubernetes/admissionreview-v1-pod-create.json'));
const refusalPaths = (body: unknown): string[] => {
  const result = AdmissionReviewV1.safeParse(body);
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
};

describe('AdmissionReviewV1', () => {
  it.each(REQUESTS.map((r) => [r.file, r] as const))('accepts or refuses %s', (file, { parses }) => {
    expect(AdmissionReviewV1.safeParse(fixture(`kubernetes/${file}`)).success).toBe(parses);
  });

  it('refuses the v1beta1 reviews for their apiVersion, and the string "None" as an oldObject', () => {
    expect(refusalPaths(fixture('kubernetes/thirdparty-connaisseur-01_deployment.json'))).toEqual(['apiVersion']);
    expect(refusalPaths(fixture('kubernetes/thirdparty-connaisseur-04_cronjob.json')).sort()).toEqual(['apiVersion', 'request.oldObject']);
    const none = { ...podCreate(), request: { ...podCreate().request, oldObject: 'None' } };
    expect(refusalPaths(none)).toEqual(['request.oldObject']);
  });

  it('reads the fields the webhook uses, and keeps the ones it does not know', () => {
    const review = AdmissionReviewV1.parse(fixture('kubernetes/admissionreview-v1-pod-ephemeralcontainers-update.json'));
    expect(review.request).toMatchObject({
      uid: 'e9543871-c4b8-4db8-80b1-f77e003a4070',
      operation: 'UPDATE',
      subResource: 'ephemeralcontainers',
      name: 'pause-demo',
      namespace: 'team-a',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      userInfo: { username: 'alice@example.com' },
      dryRun: false,
    });
    expect(review.request.requestSubResource).toBe('ephemeralcontainers');
    const docs = AdmissionReviewV1.parse(fixture('kubernetes/admissionreview-v1-request.docs.json'));
    expect(docs.request.userInfo?.extra).toEqual({ 'some-key': ['some-value1', 'some-value2'] });
    const later = AdmissionReviewV1.parse({ ...docs, request: { ...docs.request, someFutureField: { a: 1 } } });
    expect(later.request.someFutureField).toEqual({ a: 1 });
  });

  it('accepts an absent or null object (DELETE, CONNECT) and null options', () => {
    const { object: _, ...withoutObject } = podCreate().request;
    expect(AdmissionReviewV1.safeParse({ ...podCreate(), request: { ...withoutObject, operation: 'DELETE', object: null, options: null } }).success).toBe(true);
    expect(AdmissionReviewV1.safeParse({ ...podCreate(), request: { ...withoutObject, operation: 'CONNECT' } }).success).toBe(true);
  });

  it.each([
    ['an empty uid', { uid: '' }, 'request.uid'],
    ['a uid over 128 characters', { uid: 'u'.repeat(129) }, 'request.uid'],
    ['an unknown operation', { operation: 'PATCH' }, 'request.operation'],
    ['an array as object', { object: [] }, 'request.object'],
    ['a number as oldObject', { oldObject: 0 }, 'request.oldObject'],
    ['a string dryRun', { dryRun: 'false' }, 'request.dryRun'],
    ['a string as options', { options: 'CreateOptions' }, 'request.options'],
    ['a namespace over 253 characters', { namespace: 'n'.repeat(254) }, 'request.namespace'],
    ['a name over 253 characters', { name: 'n'.repeat(254) }, 'request.name'],
    ['groups that are not strings', { userInfo: { groups: [1] } }, 'request.userInfo.groups.0'],
    ['a kind without its version', { kind: { group: '', kind: 'Pod' } }, 'request.kind.version'],
    ['a resource that is a string', { resource: 'pods' }, 'request.resource'],
  ])('refuses %s', (_, change, path) => {
    const review = podCreate();
    expect(refusalPaths({ ...review, request: { ...review.request, ...change } })).toEqual([path]);
  });

  it('takes a username of any length: an identity the API server accepts must never make the review unreadable', () => {
    const review = podCreate();
    expect(AdmissionReviewV1.safeParse({ ...review, request: { ...review.request, userInfo: { username: `oidc:${'u'.repeat(5000)}` } } }).success).toBe(true);
  });

  it('refuses a review without a request, and one of another kind', () => {
    const { request: _, ...noRequest } = podCreate();
    expect(refusalPaths(noRequest)).toEqual(['request']);
    expect(refusalPaths({ ...podCreate(), kind: 'AdmissionReviewList' })).toEqual(['kind']);
  });
});

describe('imagesOf', () => {
  it.each(REQUESTS.map((r) => [r.file, r] as const))('finds exactly the images of %s, in object and oldObject', (file, expected) => {
    const request = requestOf(fixture(`kubernetes/${file}`));
    expect(imagesOf(request.object)).toEqual(expected.object);
    // connaisseur's "None" is refused by the schema before imagesOf; here it is refused too.
    if (request.oldObject === 'None') expect(() => imagesOf(request.oldObject)).toThrow(ReviewShapeError);
    else expect(imagesOf(request.oldObject)).toEqual(expected.oldObject);
  });

  it('reads the pre-1.22 EphemeralContainers kind, whose list is at the top', () => {
    const object = { apiVersion: 'v1', kind: 'EphemeralContainers', metadata: { name: 'pause-demo' }, ephemeralContainers: [{ name: 'debugger', image: 'busybox:1.36' }] };
    expect(imagesOf(object)).toEqual([image('ephemeralContainers[0]', 'debugger', 'busybox:1.36')]);
  });

  it('reads the template of any kind shaped like a workload (a CRD, a ReplicationController)', () => {
    const crd = { kind: 'Rollout', spec: { template: { spec: { containers: [{ name: 'app', image: 'harbor.example.com/a/b:1' }] } } } };
    expect(imagesOf(crd)).toEqual([image('spec.template.spec.containers[0]', 'app', 'harbor.example.com/a/b:1')]);
  });

  it('skips containers without an image, names a nameless container with the empty string, and reads null lists as absent', () => {
    const object = { spec: { initContainers: null, containers: [{ name: 'template-only' }, { image: 'nginx' }, { name: 'blank', image: '' }, { name: 'n', image: null }] } };
    expect(imagesOf(object)).toEqual([image('spec.containers[1]', '', 'nginx')]);
    expect(imagesOf(null)).toEqual([]);
    expect(imagesOf(undefined)).toEqual([]);
    expect(imagesOf({ kind: 'Scale', spec: 'not a pod spec' })).toEqual([]);
  });

  const shapeError = (object: unknown): ReviewShapeError => {
    try {
      imagesOf(object);
    } catch (error) {
      if (error instanceof ReviewShapeError) return error;
      throw error;
    }
    throw new Error('expected a ReviewShapeError');
  };

  it.each([
    ['a container list that is not an array', { spec: { containers: { name: 'x', image: 'nginx' } } }, 'spec.containers', /is not an array/],
    ['a container that is not an object', { spec: { template: { spec: { initContainers: ['nginx'] } } } }, 'spec.template.spec.initContainers[0]', /is not an object/],
    ['an image that is not a string', { spec: { containers: [{ name: 'a', image: ['nginx'] }] } }, 'spec.containers[0].image', /is not a string/],
    ['a numeric image', { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ image: 5 }] } } } } } }, 'spec.jobTemplate.spec.template.spec.containers[0].image', /is not a string/],
    ['an image over 4096 characters', { spec: { containers: [{ image: `nginx:${'a'.repeat(4091)}` }] } }, 'spec.containers[0].image', /longer than 4096/],
    ['a container name that is not a string', { spec: { containers: [{ name: 7, image: 'nginx' }] } }, 'spec.containers[0].name', /is not a string/],
    ['a container name over 253 characters', { spec: { containers: [{ name: 'n'.repeat(254), image: 'nginx' }] } }, 'spec.containers[0].name', /longer than 253/],
    ['a top-level ephemeral list that is not an array', { ephemeralContainers: 'busybox' }, 'ephemeralContainers', /is not an array/],
    ['an object that is a string', 'None', 'object', /is not a JSON object/],
  ])('throws a ReviewShapeError naming the field for %s', (_, object, field, message) => {
    const error = shapeError(object);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(new RegExp(`^${field.replace(/[[\].]/g, '\\$&')} `));
    expect(error.message).toMatch(message);
    // The HTTP layer maps it like any other bad request.
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe('BAD_REQUEST');
  });

  it('accepts an image of exactly 4096 characters (the parser decides about it)', () => {
    const long = `nginx:${'a'.repeat(4090)}`;
    expect(imagesOf({ spec: { containers: [{ image: long }] } })).toEqual([image('spec.containers[0]', '', long)]);
  });

  it(`refuses more than ${MAX_CONTAINERS} containers in one object, counted over every list`, () => {
    const containers = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'nginx' }));
    expect(imagesOf({ spec: { containers: containers(MAX_CONTAINERS) } })).toHaveLength(MAX_CONTAINERS);
    expect(shapeError({ spec: { initContainers: containers(600), containers: containers(401) } })).toMatchObject({ field: 'spec.containers' });
    expect(shapeError({ spec: { containers: containers(1) }, ephemeralContainers: containers(MAX_CONTAINERS) }).message).toMatch(/over 1000 containers/);
  });
});

describe('reviewResponse', () => {
  const withUid = (name: string, uid: string) => {
    const body = fixture(`kubernetes/${name}`) as { response: Record<string, unknown> };
    return { ...body, response: { ...body.response, uid } };
  };

  it('answers an allowed request with the docs\' minimal response', () => {
    expect(reviewResponse('u-1', { allowed: true })).toEqual(withUid('admissionreview-v1-response-allowed.json', 'u-1'));
    expect(reviewResponse('u-1', { allowed: true, message: 'ignored when allowed', warnings: [] })).toEqual(withUid('admissionreview-v1-response-allowed.json', 'u-1'));
  });

  it('refuses with status 403 and the message, as the docs\' example', () => {
    const message = 'You cannot do this because it is Tuesday and your name starts with A';
    expect(reviewResponse('u-2', { allowed: false, message })).toEqual(withUid('admissionreview-v1-response-denied.json', 'u-2'));
  });

  it('refuses without a status when there is no message, as the docs\' minimal refusal', () => {
    expect(reviewResponse('u-3', { allowed: false })).toEqual(withUid('admissionreview-v1-response-denied-minimal.json', 'u-3'));
  });

  it('carries warnings, as the docs\' example, and puts the keys in the docs\' order', () => {
    const warnings = [
      'duplicate envvar entries specified with name MY_ENV',
      'memory request less than 4MB specified for container mycontainer, which will not start successfully',
    ];
    const response = reviewResponse('u-4', { allowed: true, warnings });
    expect(response).toEqual(withUid('admissionreview-v1-response-allowed-warnings.docs.json', 'u-4'));
    expect(JSON.stringify(response)).toBe(JSON.stringify(withUid('admissionreview-v1-response-allowed-warnings.docs.json', 'u-4')));
    expect(Object.keys(reviewResponse('u', { allowed: false, message: 'm', warnings: ['w'] }).response)).toEqual(['uid', 'allowed', 'status', 'warnings']);
  });

  it('has the shape of the response a real webhook sent (c7n), without its status on an allowed answer', () => {
    const captured = fixture('kubernetes/admissionreview-v1-response-allowed-warnings.captured-c7n.json') as {
      response: { uid: string; warnings: string[] };
    };
    const ours = reviewResponse(captured.response.uid, { allowed: true, warnings: captured.response.warnings });
    const { status: _, ...capturedWithoutStatus } = captured.response as Record<string, unknown>;
    expect(ours).toEqual({ ...captured, response: capturedWithoutStatus });
  });
});

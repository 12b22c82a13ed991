import * as z from 'zod';
import { ALWAYS_EXEMPT } from '../domain/admission.ts';
import type { Deps } from '../deps.ts';
import { toYaml } from '../kubernetes/yaml.ts';
import { admissionUrl, getClusterOrThrow } from './clusters.ts';

export const AdmissionConfigQuery = z.strictObject({
  failurePolicy: z.enum(['Fail', 'Ignore']).default('Fail').describe('what the API server does when this service does not answer'),
});

/** Where the token goes: it is shown only when the cluster is registered and when its token is rotated. */
export const TOKEN_PLACEHOLDER = '<admission token: shown once when the cluster was registered or its token rotated>';
/** Well under the API server's 10 s default: a review is answered in milliseconds, and a stuck call holds a write. */
export const WEBHOOK_TIMEOUT_SECONDS = 5;
const KUBECONFIG_PATH = '/etc/kubernetes/admission/platform-image-registry.kubeconfig';
const ADMISSION_CONFIG_PATH = '/etc/kubernetes/admission/admission-configuration.yaml';

const FAILURE_POLICY: Record<'Fail' | 'Ignore', string> = {
  Fail: 'Fail: while this service cannot be reached, no Pod or workload can be created or changed in the matched namespaces (the rule never lapses, but an outage stops deploys)',
  Ignore: 'Ignore: while this service cannot be reached, everything is admitted unchecked (deploys go on during an outage, and so does any image); and any object the API server cannot deliver to the webhook (over 4 MiB as a review) is admitted too, so against a hostile tenant the rule becomes advice: use Fail where tenant isolation matters',
};

/** The resources whose objects carry images: Pods (and `kubectl debug`'s subresource) and every kind with a pod template. */
const RULES = [
  { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods', 'pods/ephemeralcontainers', 'replicationcontrollers'], scope: 'Namespaced' },
  { apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'], scope: 'Namespaced' },
  { apiGroups: ['batch'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['jobs', 'cronjobs'], scope: 'Namespaced' },
];

/**
 * The kubeconfig user the API server picks for a webhook URL: its `host:port`, the port left out only when it is 443
 * (apiserver `util/webhook/authentication.go` tries `host:port`, then, for 443, `host`).
 */
const kubeconfigUserOf = (url: string) => {
  const u = new URL(url);
  return u.port && u.port !== '443' ? `${u.hostname}:${u.port}` : u.hostname;
};

/**
 * What to paste into the cluster: the `ValidatingWebhookConfiguration` (URL, rules, `sideEffects: None`, v1 reviews, a
 * namespaceSelector leaving out kube-system and the exempt namespaces, timeout, failure policy) and the kube-apiserver
 * files that make it send the admission token (`--admission-control-config-file`, and the kubeconfig it names). The
 * token is a placeholder: it is shown only at registration and rotation.
 */
export const getAdmissionConfig = async (cluster: string, query: z.infer<typeof AdmissionConfigQuery>, deps: Deps) => {
  const c = await getClusterOrThrow(deps, cluster);
  const url = admissionUrl(deps, cluster);
  const name = `images.platform-image-registry.${cluster}`;
  const validatingWebhookConfiguration = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'platform-image-registry' },
    webhooks: [
      {
        name,
        clientConfig: { url },
        rules: RULES,
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        timeoutSeconds: WEBHOOK_TIMEOUT_SECONDS,
        failurePolicy: query.failurePolicy,
        matchPolicy: 'Equivalent',
        namespaceSelector: {
          matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [...new Set([...ALWAYS_EXEMPT, ...c.exemptNamespaces])].sort() }],
        },
      },
    ],
  };
  const admissionConfiguration = {
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AdmissionConfiguration',
    plugins: [{ name: 'ValidatingAdmissionWebhook', configuration: { apiVersion: 'apiserver.config.k8s.io/v1', kind: 'WebhookAdmissionConfiguration', kubeConfigFile: KUBECONFIG_PATH } }],
  };
  const kubeconfig = { apiVersion: 'v1', kind: 'Config', users: [{ name: kubeconfigUserOf(url), user: { token: TOKEN_PLACEHOLDER } }] };
  const ordered = { sortKeys: false };
  return {
    cluster,
    webhookUrl: url,
    mode: c.mode,
    failurePolicy: { value: query.failurePolicy, meaning: FAILURE_POLICY[query.failurePolicy], other: FAILURE_POLICY[query.failurePolicy === 'Fail' ? 'Ignore' : 'Fail'] },
    validatingWebhookConfiguration: { object: validatingWebhookConfiguration, yaml: toYaml(validatingWebhookConfiguration, ordered), applyWith: 'kubectl apply -f -' },
    apiServer: {
      flag: `--admission-control-config-file=${ADMISSION_CONFIG_PATH}`,
      admissionConfiguration: { path: ADMISSION_CONFIG_PATH, yaml: toYaml(admissionConfiguration, ordered) },
      kubeconfig: { path: KUBECONFIG_PATH, yaml: toYaml(kubeconfig, ordered), tokenPlaceholder: TOKEN_PLACEHOLDER },
      note: 'the API server reads both files when it starts: restart it after writing them, and again after a token rotation (the old token keeps working for the grace the rotation gave)',
    },
    ...(new URL(url).protocol === 'https:' ? {} : { warnings: [`the API server calls webhooks over https only: ${url} must be served over TLS (set PUBLIC_URL to the https address)`] }),
  };
};

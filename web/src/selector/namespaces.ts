import type { MyNamespaces, NamespaceRef } from '../api.ts';
import { fill, h } from '../dom.ts';
import { session } from '../session.ts';
import { renderDetails } from './details.ts';
import { clusterSelect, namespaceSelect, results, search, workspaceNote } from './elements.ts';
import { loadPage } from './results.ts';
import { loadSnapshot } from './snapshot.ts';
import { NS_KEY, nsName, state } from './state.ts';

const fillNamespaces = (cluster: string) =>
  fill(
    namespaceSelect,
    ...(session.me?.items ?? [])
      .filter((n) => n.cluster === cluster)
      .map((n) => h('option', { value: nsName(n) }, `${n.namespace} — ${n.workspaceId ? `workspace ${n.workspaceId}` : 'no workspace'}`)),
  );

export const onClusterChange = () => {
  fillNamespaces(clusterSelect.value);
  onNamespaceChange();
};

export const onNamespaceChange = () => {
  const n = session.me?.items.find((x) => nsName(x) === namespaceSelect.value);
  if (n) setNamespace(n);
};

const setNamespace = (n: NamespaceRef) => {
  state.ns = n;
  sessionStorage.setItem(NS_KEY, nsName(n));
  workspaceNote.textContent = n.workspaceId ? `sees public images and those of workspace ${n.workspaceId}` : 'bound to no workspace: sees public images only';
  state.selected = undefined;
  renderDetails();
  void loadPage(0).then(() => (state.ns === n ? loadSnapshot(n) : undefined));
};

const noNamespace = (me: MyNamespaces) => {
  clusterSelect.disabled = namespaceSelect.disabled = search.disabled = true;
  fill(namespaceSelect);
  const why = me.admin
    ? 'No namespace is registered yet. Bind one in the console (Workspaces) or with PUT /api/v1/clusters/{cluster}/namespaces/{namespace}.'
    : me.workspaces.length
      ? `No namespace is bound to your workspaces (${me.workspaces.join(', ')}) yet. Ask a platform admin to bind one.`
      : 'Your token names no workspace, so it opens no namespace. Ask for a token with a workspaces claim.';
  fill(results, h('div', { class: 'empty' }, h('h2', {}, 'No namespace to deploy to'), h('p', {}, why)));
};

/** Fills the cluster and namespace pickers and opens the namespace of the address, the tab's last one, or the first. */
export const openNamespaces = (me: MyNamespaces) => {
  const clusters = [...new Set(me.items.map((n) => n.cluster))];
  fill(clusterSelect, ...clusters.map((c) => h('option', { value: c }, c)));
  const params = new URLSearchParams(location.hash.slice(1));
  const wanted = params.get('ns') ?? sessionStorage.getItem(NS_KEY) ?? '';
  const initial = me.items.find((n) => nsName(n) === wanted) ?? me.items[0];
  if (!initial) return noNamespace(me);
  clusterSelect.disabled = namespaceSelect.disabled = search.disabled = false;
  clusterSelect.value = initial.cluster;
  fillNamespaces(initial.cluster);
  namespaceSelect.value = nsName(initial);
  state.q = params.get('q') ?? '';
  search.value = state.q;
  setNamespace(initial);
};

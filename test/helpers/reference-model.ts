import { splitPath } from '../../shared/domain/model.ts';

/**
 * A plain in-memory model of the product's rule and of tag ordering: what every namespace's selector must
 * show once every change has been indexed. Kept deliberately naive: no index, no events.
 */
/** H: a platform Harbor; D: a platform Docker Registry; O: a Docker Registry owned by workspace `OWNER`. */
export type RegOf = 'H' | 'D' | 'O';
export const OWNER = 'w1';
const ownerOf = (reg: RegOf) => (reg === 'O' ? OWNER : null);
type TagState = { state: 'present' | 'deleted'; time: number; digest?: string };
export type Outcome = 'ok' | 'NOT_FOUND' | 'CONFLICT' | 'BAD_REQUEST';
export type SelectorItem = { image: string; tagCount: number; latestTag: string; grantedBy: string[] };

type SpaceTruth = { vis: 'public' | 'private'; bindings: Set<string>; owner: string | null };

/**
 * The rule, stated here from DESIGN §1 and §4 and not imported from the product (whose rule this property checks):
 * namespace N (bound to workspace `w`, or to none) may select the images of space S ⇔ S's registry is owned by W ∧ N
 * is bound to W, or, on a registry no workspace owns, S is public ∨ (S is bound to W ∧ N is bound to W).
 */
const allows = (s: SpaceTruth, w: string | null) => (s.owner !== null ? w === s.owner : s.vis === 'public' || (w !== null && s.bindings.has(w)));

export const createModel = (hosts: Record<RegOf, string>) => {
  const hostsOf = hosts;
  const spaces = new Map<string, SpaceTruth>();
  const tags = new Map<string, Map<string, TagState>>();
  const namespaces = new Map<string, string | null>();
  const workspaces = new Set<string>();
  /** Every repository ever pushed to, kept through deletes: only these can have an index row, stale or not. */
  const pushed = new Map<string, { reg: RegOf; path: string }>();
  const sk = (reg: RegOf, space: string) => `${reg}/${space}`;
  const tagsOf = (reg: RegOf, path: string) => {
    const key = `${reg}|${path}`;
    let m = tags.get(key);
    if (!m) tags.set(key, (m = new Map()));
    return m;
  };
  const applyDelete = (reg: RegOf, path: string, tag: string, time: number) => {
    const m = tagsOf(reg, path);
    const cur = m.get(tag);
    if (!cur || cur.time < time || (cur.time === time && cur.state === 'present')) m.set(tag, { state: 'deleted', time });
  };

  return {
    addWorkspace: (w: string) => void workspaces.add(w),
    createSpace(reg: RegOf, space: string, vis: 'public' | 'private'): Outcome {
      if (reg !== 'H' && vis === 'private') return 'BAD_REQUEST';
      if (spaces.has(sk(reg, space))) return 'CONFLICT';
      spaces.set(sk(reg, space), { vis, bindings: new Set(), owner: ownerOf(reg) });
      return 'ok';
    },
    setVisibility(reg: RegOf, space: string, vis: 'public' | 'private'): Outcome {
      if (reg !== 'H' && vis === 'private') return 'BAD_REQUEST';
      const s = spaces.get(sk(reg, space));
      if (!s) return 'NOT_FOUND';
      s.vis = vis;
      return 'ok';
    },
    deleteSpace(reg: RegOf, space: string): Outcome {
      if (!spaces.delete(sk(reg, space))) return 'NOT_FOUND';
      for (const key of [...tags.keys()]) {
        const [r, path] = key.split('|') as [RegOf, string];
        if (r === reg && splitPath(path).space === space) tags.delete(key);
      }
      return 'ok';
    },
    bind(reg: RegOf, space: string, w: string, bound: boolean): Outcome {
      const s = spaces.get(sk(reg, space));
      if (!s || !workspaces.has(w)) return 'NOT_FOUND';
      // An owned registry's spaces take no binding; unbinding stays idempotent.
      if (s.owner !== null) return bound ? 'CONFLICT' : 'ok';
      if (bound) s.bindings.add(w);
      else s.bindings.delete(w);
      return 'ok';
    },
    setNamespace(ns: string, w: string | null): Outcome {
      if (w && !workspaces.has(w)) return 'NOT_FOUND';
      namespaces.set(ns, w);
      return 'ok';
    },
    /** A push into an unknown space creates it: public on a Docker Registry, private on Harbor (whatever the payload claims). */
    push(reg: RegOf, path: string, tag: string | undefined, digest: string, time: number) {
      const space = splitPath(path).space;
      pushed.set(`${reg}|${path}`, { reg, path });
      if (!spaces.has(sk(reg, space))) spaces.set(sk(reg, space), { vis: reg === 'H' ? 'private' : 'public', bindings: new Set(), owner: ownerOf(reg) });
      if (!tag) return;
      const m = tagsOf(reg, path);
      const cur = m.get(tag);
      if (!cur || cur.time < time) m.set(tag, { state: 'present', time, digest });
    },
    deleteTag(reg: RegOf, path: string, tag: string, time: number) {
      if (spaces.has(sk(reg, splitPath(path).space))) applyDelete(reg, path, tag, time);
    },
    deleteDigest(reg: RegOf, path: string, digest: string, time: number) {
      if (!spaces.has(sk(reg, splitPath(path).space))) return;
      for (const [tag, s] of tagsOf(reg, path)) if (s.state === 'present' && s.digest === digest) applyDelete(reg, path, tag, time);
    },
    /** The projects workspace `w`'s Harbor robot must hold: its bound private spaces on H, sorted (none: no robot). */
    robotProjects(w: string): string[] {
      return [...spaces]
        .filter(([key, s]) => key.startsWith('H/') && s.vis === 'private' && s.bindings.has(w))
        .map(([key]) => key.slice(2))
        .sort();
    },
    /**
     * The hosts namespace `ns`'s pull secret must name: H when its workspace has a robot; D when the Docker Registries
     * have pull credentials, and O then too when the namespace is in O's owner.
     */
    pullHosts(ns: string, dockerPullCredentials: boolean): string[] {
      const w = namespaces.get(ns) ?? null;
      const hosts = [
        ...(w && this.robotProjects(w).length ? [hostsOf.H] : []),
        ...(dockerPullCredentials ? [hostsOf.D] : []),
        ...(dockerPullCredentials && w === OWNER ? [hostsOf.O] : []),
      ];
      return hosts.sort();
    },
    /** The repositories ever pushed to (see `pushed`). */
    pushedRepos: () => [...pushed.values()],
    /** Whether the rule lets namespace `ns` select space-wise from `path` on `reg`, on the truth as it is now (tags aside). */
    ruleAllows(ns: string, reg: RegOf, path: string): boolean {
      const s = spaces.get(sk(reg, splitPath(path).space));
      return !!s && allows(s, namespaces.get(ns) ?? null);
    },
    /** Whether admission must let namespace `ns` run `image` (`host/path`, no tag): exactly what its selector offers. */
    selectable(ns: string, image: string): boolean {
      return this.selector(ns).some((i) => i.image === image);
    },
    /** What namespace `ns` must be offered, sorted by image. */
    selector(ns: string): SelectorItem[] {
      const w = namespaces.get(ns) ?? null;
      const items: SelectorItem[] = [];
      for (const [key, m] of tags) {
        const [reg, path] = key.split('|') as [RegOf, string];
        const s = spaces.get(sk(reg, splitPath(path).space));
        if (!s || !allows(s, w)) continue;
        const present = [...m].filter(([, t]) => t.state === 'present');
        if (!present.length) continue;
        const [latest] = present.reduce((a, b) => (b[1].time > a[1].time || (b[1].time === a[1].time && b[0] > a[0]) ? b : a));
        const grantedBy =
          s.owner !== null ? [`workspace:${s.owner}`] : [...(s.vis === 'public' ? ['public'] : []), ...(w && s.bindings.has(w) ? [`workspace:${w}`] : [])].sort();
        items.push({ image: `${hosts[reg]}/${path}`, tagCount: present.length, latestTag: latest, grantedBy });
      }
      return items.sort((a, b) => (a.image < b.image ? -1 : 1));
    },
  };
};

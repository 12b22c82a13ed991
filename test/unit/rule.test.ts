import { describe, expect, it } from 'vitest';
import { audiencesOfNamespace, audiencesOfSpace, maySelect } from '../../shared/domain/rule.ts';

describe('the visibility rule', () => {
  it('offers a public space to every namespace, bound or not', () => {
    expect(maySelect({ visibility: 'public', boundWorkspaces: [] }, null)).toBe(true);
    expect(maySelect({ visibility: 'public', boundWorkspaces: [] }, 'team-a')).toBe(true);
  });

  it('offers a private space only to namespaces of a workspace it is bound to', () => {
    const space = { visibility: 'private' as const, boundWorkspaces: ['team-a'] };
    expect(maySelect(space, 'team-a')).toBe(true);
    expect(maySelect(space, 'team-b')).toBe(false);
    expect(maySelect(space, null)).toBe(false);
    expect(maySelect(space, undefined)).toBe(false);
  });

  it('never offers an unbound private space', () => {
    expect(maySelect({ visibility: 'private', boundWorkspaces: [] }, 'team-a')).toBe(false);
  });

  it('writes a public space to public and to each bound workspace, a private one only to bound workspaces', () => {
    expect(audiencesOfSpace({ visibility: 'public', boundWorkspaces: ['b', 'a', 'a'] })).toEqual(['public', 'workspace:a', 'workspace:b']);
    expect(audiencesOfSpace({ visibility: 'private', boundWorkspaces: [] })).toEqual([]);
    expect(audiencesOfSpace({ visibility: 'private', boundWorkspaces: ['a'] })).toEqual(['workspace:a']);
  });

  it('offers a workspace-owned registry’s spaces to the owner only, whatever their visibility and bindings', () => {
    for (const visibility of ['public', 'private'] as const) {
      const owned = { visibility, boundWorkspaces: ['b'], owner: 'a' };
      expect(audiencesOfSpace(owned)).toEqual(['workspace:a']);
      expect(maySelect(owned, 'a')).toBe(true);
      expect(maySelect(owned, 'b')).toBe(false);
      expect(maySelect(owned, null)).toBe(false);
      expect(maySelect(owned, undefined)).toBe(false);
    }
  });

  it('reads a namespace from public plus its workspace, or public alone', () => {
    expect(audiencesOfNamespace('a')).toEqual(['public', 'workspace:a']);
    expect(audiencesOfNamespace(null)).toEqual(['public']);
  });
});

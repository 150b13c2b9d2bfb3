import { describe, expect, it } from 'vitest';
import { buildArgs, RIG_REPOSITORY, rigImage, rigTag, untilAborted } from './rig-image.js';

describe("the rig's image", () => {
  const id = `sha256:${'0123456789abcdef'.repeat(4)}`;

  it("is tagged by its own content: the id's first 12 hex digits, so two checkouts never share a tag with different code", () => {
    expect(rigTag(`${id}\n`)).toBe(`${RIG_REPOSITORY}:0123456789ab`);
    expect(rigTag(`sha256:${'f'.repeat(64)}`)).not.toBe(rigTag(id));
  });

  it('refuses what is not an image id, saying what it got', () => {
    expect(() => rigTag('')).toThrow(/no image id/);
    expect(() => rigTag('holdline:test')).toThrow(/"holdline:test"/);
  });

  it('builds without a tag into an id file, and hands a CA file over as a BuildKit secret by its path only', () => {
    expect(buildArgs('/repo', '/tmp/x/iid')).toEqual(['build', '--iidfile', '/tmp/x/iid', '/repo']);
    expect(buildArgs('/repo', '/tmp/x/iid', '/etc/ssl/corp.pem')).toEqual(['build', '--iidfile', '/tmp/x/iid', '--secret', 'id=host_ca,src=/etc/ssl/corp.pem', '/repo']);
  });

  it("lets one waiter of the shared build give up without failing the others' wait (one rehearsal cut off is not every start)", async () => {
    let finish!: (tag: string) => void;
    const build = new Promise<string>((resolve) => (finish = resolve));
    const cutOff = new AbortController();
    const first = untilAborted(build, cutOff.signal);
    const second = untilAborted(build, new AbortController().signal);
    cutOff.abort(new Error('the test timed out'));
    await expect(first).rejects.toThrow('the test timed out');
    finish('holdline-rig:0123456789ab');
    await expect(second).resolves.toBe('holdline-rig:0123456789ab');
    await expect(untilAborted(build, cutOff.signal)).rejects.toThrow('the test timed out');
  });

  it('is built once for every rehearsal of the run, and one rehearsal cut off leaves the build to the others', async () => {
    let finish!: (tag: string) => void;
    const builds: unknown[][] = [];
    const build = (...args: unknown[]) => {
      builds.push(args);
      return new Promise<string>((resolve) => (finish = resolve));
    };
    const cutOff = new AbortController();
    const root = `/repo-${Math.random()}`;
    const first = rigImage(root, () => {}, cutOff.signal, build);
    const second = rigImage(root, () => {}, new AbortController().signal, build);
    cutOff.abort(new Error('the test timed out'));
    await expect(first).rejects.toThrow('the test timed out');
    finish('holdline-rig:0123456789ab');
    await expect(second).resolves.toBe('holdline-rig:0123456789ab');
    expect(builds).toHaveLength(1);
    expect(builds[0]).toHaveLength(2); // the build gets no caller's signal
  });
});

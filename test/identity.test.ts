// One Moodle, one identity (issue 19, point 3): a Moodle reached under two
// site ids, a target inside what is selected, an archive taken for a source,
// a mirror category of another session's tree.
import { MockActivityEnvironment } from '@temporalio/testing';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../activities';
import { mirrorCategoryIdnumber } from '../activities/prepare';
import { marksArchiveOf } from '../activities/restore';
import { tokenEnvName } from '../contract';
import { parseConfig } from '../workers/config';
import type { CourseFacts } from '../workflows/types';
import { startStack, type Stack } from './harness';

describe('one Moodle, one identity', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 4 });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'identity-check', runId: 'r' } });

  it('refuses a session whose two sites are one Moodle by its own answers, or whose target is inside the selection', async () => {
    // The same simulated Moodle under another host name: the config cannot tell, the site's own answers can.
    const raw = structuredClone(stack.rawConfig) as { sites: Record<string, Record<string, unknown>> };
    raw.sites.alias = {
      ...raw.sites.prod,
      url: String(raw.sites.prod.url).replace('127.0.0.1', 'localhost'),
      staging: `${String(raw.sites.prod.staging)}-alias`, // a staging folder of its own, as the config requires
    };
    const config = parseConfig(raw, { env: { ...stack.env, [tokenEnvName('alias')]: stack.env[tokenEnvName('prod')] } });
    const activities = createActivities(config, stack.catalog);
    await expect(
      env.run(activities.checkSites, { siteIds: ['prod', 'alias'], target: { siteId: 'alias', categoryId: stack.archivesCategoryId } }),
    ).rejects.toMatchObject({ type: 'SameMoodle', message: expect.stringMatching(/sites\.alias and sites\.prod are one Moodle/) });

    const prod = stack.sim.sites.prod.store;
    const inside = prod.subtree(stack.vintageCategoryId).find((c) => c.id !== stack.vintageCategoryId)!;
    await expect(
      env.run(activities.checkSites, {
        siteIds: ['prod', 'prod'],
        target: { siteId: 'prod', categoryId: inside.id },
        sourceRoots: [stack.vintageCategoryId],
      }),
    ).rejects.toMatchObject({
      type: 'TargetInsideSource',
      message: expect.stringMatching(
        new RegExp(`category ${inside.id} is inside source category ${stack.vintageCategoryId} of the same Moodle`),
      ),
    });
    // Outside the selection, on the same Moodle: accepted.
    const outside = prod.data.categories.find((c) => !prod.subtree(stack.vintageCategoryId).some((s) => s.id === c.id))!;
    await expect(
      env.run(activities.checkSites, {
        siteIds: ['prod', 'prod'],
        target: { siteId: 'prod', categoryId: outside.id },
        sourceRoots: [stack.vintageCategoryId],
      }),
    ).resolves.toHaveLength(1);
  });

  it('never selects an archived copy, and restores into its own mirror tree, not one another session made elsewhere', async () => {
    const prod = stack.sim.sites.prod.store;
    const archive = stack.sim.sites.archive.store;
    const [marked, ...sources] = stack.vintageCourseIds();
    // A copy the archiver made on this same site once (an archive of another course), left among the sources.
    prod.course(marked)!.idnumber = `archive:other:77:${'ab'.repeat(6)}`;
    prod.save();
    // Another session's mirror of one of the source categories, under another archive root.
    const inSub = sources.find((id) => prod.course(id)!.category !== stack.vintageCategoryId);
    expect(inSub, 'a source in a subcategory').toBeDefined();
    const mirrored = prod.course(inSub!)!.category;
    const elsewhere = archive.addCategory('Another session root', 0, null);
    const foreign = archive.addCategory('Foreign mirror', elsewhere.id, mirrorCategoryIdnumber('prod', mirrored));
    archive.save();

    const result = await stack.runSession(stack.sessionInput({ deleteSource: false, mirrorSubcategories: true }));

    expect(result.counts).toMatchObject({ succeeded: sources.length, failed: 0 });
    expect(archive.data.courses.filter((c) => marksArchiveOf(c.idnumber, 'prod', marked))).toEqual([]);
    expect(await stack.catalog.find('prod', marked)).toBeNull();
    const ours = new Set(archive.subtree(stack.archivesCategoryId).map((c) => c.id));
    for (const id of sources) {
      const [copy] = archive.data.courses.filter((c) => marksArchiveOf(c.idnumber, 'prod', id));
      expect(ours.has(copy.category), `copy of ${id} in the session's own tree`).toBe(true);
    }
    expect(archive.coursesUnder(foreign.id)).toEqual([]);
  });

  it('lets no name from outside pick a path: a hostile backup name or session name deletes nothing outside staging', async () => {
    const activities = createActivities(stack.config, stack.catalog);
    const staging = stack.config.sites.archive.staging;
    const victim = join(dirname(staging), 'victim.mbz');
    writeFileSync(victim, 'keep me');
    const course = {
      session: 'paths',
      vintage: '2024-2025',
      courseId: 1,
      sourceSiteId: 'prod',
      targetSiteId: 'archive',
      targetCategoryId: stack.archivesCategoryId,
      sourceRootCategoryId: stack.vintageCategoryId,
      mirrorSubcategories: false,
      deleteSource: false,
      failureHoldHours: 0,
    };
    await expect(env.run(activities.removeTargetStaging, { course, facts: { backupName: '../victim.mbz' } })).rejects.toMatchObject({
      type: 'UnsafeName',
      message: expect.stringMatching(/^backup file name "\.\.\/victim\.mbz" is not a backup file name/),
    });
    await expect(env.run(activities.removeSessionStaging, { siteId: 'archive', session: '..' })).rejects.toMatchObject({
      type: 'UnsafeName',
    });
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect(existsSync(staging)).toBe(true);
  });
});

describe('courses of one category prepared at once', () => {
  let stack: Stack;
  beforeAll(async () => {
    // Every web-service call waits 50 ms: the prepares go in step, and all of them find no mirror before one makes it.
    stack = await startStack({ courses: 4, latency: { fixedSeconds: 0, secondsPerMB: 0, secondsPerActivity: 0, requestSeconds: 0.05 } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('share one mirror category, each prepared at its first attempt, on one worker or two', async () => {
    const prod = stack.sim.sites.prod.store;
    const sub = prod.addCategory('One subcategory', stack.vintageCategoryId, null);
    const ids = stack.vintageCourseIds();
    for (const id of ids) prod.course(id)!.category = sub.id;
    prod.save();
    // Two workers: each makes one lookup for its courses, and the two race on Moodle.
    const workers = [createActivities(stack.config, stack.catalog), createActivities(stack.config, stack.catalog)];
    const prepared = await Promise.all(
      ids.map(
        (courseId, i) =>
          new MockActivityEnvironment({ workflowExecution: { workflowId: `mirror-race/${courseId}`, runId: 'r' } }).run(
            workers[i % 2].prepareCourse,
            {
              course: {
                session: 'mirror-race',
                vintage: '2024-2025',
                courseId,
                sourceSiteId: 'prod',
                targetSiteId: 'archive',
                targetCategoryId: stack.archivesCategoryId,
                sourceRootCategoryId: stack.vintageCategoryId,
                mirrorSubcategories: true,
                deleteSource: false,
                failureHoldHours: 0,
              },
              facts: { phaseTimes: {} },
            },
          ) as Promise<CourseFacts>,
      ),
    );
    const mirrors = stack.sim.sites.archive.store.data.categories.filter((c) => c.idnumber === mirrorCategoryIdnumber('prod', sub.id));
    expect(mirrors).toHaveLength(1);
    expect(prepared.map((p) => p.targetCategoryId)).toEqual(ids.map(() => mirrors[0].id));
  });
});

// One session per course: before a session selects anything, the running
// sessions (started before it) whose selection shares a category or a course
// with its own. The sessions and their selections come from Temporal (each
// session's memo); what a selection reaches comes from the source Moodle's
// category tree. Exclusion patterns are not applied: two selections that
// only their exclusions keep apart count as overlapping (the safe side).
import type { Sites } from './sites';

/** What a session selects on its source site (its memo's `selection.scope`). */
export interface SelectionScope {
  sourceSiteId: string;
  roots: number[];
  includeSubcategories: boolean;
  courseIds: number[];
}

export interface RunningSession {
  session: string;
  /** When the session began (its first run), ms. */
  since: number;
  /** Absent for a session of an older archiver: it cannot be compared, and is not. */
  scope?: SelectionScope;
}

/** The sessions running now, as Temporal lists them, and a way to signal one (workers/run.ts builds it on a
 * Temporal client). */
export interface SessionRegistry {
  running(): Promise<RunningSession[]>;
  /** Signals a session's current run; nothing when it no longer runs. */
  signal(workflowId: string, signal: string, args: unknown[]): Promise<void>;
}

interface Reach {
  categories: Set<number>;
  courses: Set<number>;
  /** The categories of the single courses. */
  courseCategories: Set<number>;
}

const meets = (a: Set<number>, b: Set<number>) => [...a].some((x) => b.has(x));

export function overlapActivities(sites: Sites, registry: SessionRegistry) {
  async function reach(scope: SelectionScope): Promise<Reach> {
    const moodle = sites.moodle(scope.sourceSiteId);
    const categories = new Set<number>();
    for (const root of scope.roots) for (const c of await moodle.categories({ id: root }, scope.includeSubcategories)) categories.add(c.id);
    const courses = scope.courseIds.length ? await moodle.coursesByField('ids', scope.courseIds.join(',')) : [];
    return { categories, courses: new Set(scope.courseIds), courseCategories: new Set(courses.map((c) => c.categoryid)) };
  }

  return {
    /** The running sessions that began before this one and select some of its courses. */
    async overlappingSessions(req: {
      session: string;
      since: number;
      scope: SelectionScope;
    }): Promise<{ session: string; since: number }[]> {
      const earlier = (await registry.running()).filter(
        (o) =>
          o.session !== req.session &&
          o.scope?.sourceSiteId === req.scope.sourceSiteId &&
          (o.since < req.since || (o.since === req.since && o.session < req.session)),
      );
      if (!earlier.length) return [];
      const mine = await reach(req.scope);
      const out: { session: string; since: number }[] = [];
      for (const o of earlier) {
        const theirs = await reach(o.scope!);
        if (
          meets(mine.categories, theirs.categories) ||
          meets(mine.courses, theirs.courses) ||
          meets(mine.courseCategories, theirs.categories) ||
          meets(theirs.courseCategories, mine.categories)
        )
          out.push({ session: o.session, since: o.since });
      }
      return out;
    },
  };
}

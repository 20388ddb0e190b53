// A course's shape as the web services show it: what verification compares
// between the source course and its restored copy.
import type { MoodleSection } from './moodle/client';

export interface CourseShape {
  sectionCount: number;
  activityCount: number;
  activitiesByType: Record<string, number>;
  fileCount: number;
  declaredBytes: number;
}

export function courseShape(sections: MoodleSection[]): CourseShape {
  const activitiesByType: Record<string, number> = {};
  let fileCount = 0;
  let declaredBytes = 0;
  for (const s of sections) {
    for (const m of s.modules) {
      activitiesByType[m.modname] = (activitiesByType[m.modname] ?? 0) + 1;
      for (const c of m.contents ?? []) {
        if (c.type !== 'file') continue;
        fileCount++;
        declaredBytes += c.filesize ?? 0;
      }
    }
  }
  const activityCount = Object.values(activitiesByType).reduce((a, b) => a + b, 0);
  return { sectionCount: sections.length, activityCount, activitiesByType, fileCount, declaredBytes };
}

/** The differences between two shapes, in words an admin reads; empty when they match. */
export function shapeDifferences(source: CourseShape, copy: CourseShape): string[] {
  const diffs: string[] = [];
  const cmp = (what: string, a: number, b: number) => {
    if (a !== b) diffs.push(`${what}: source ${a}, archive ${b}`);
  };
  cmp('sections', source.sectionCount, copy.sectionCount);
  cmp('activities', source.activityCount, copy.activityCount);
  for (const t of new Set([...Object.keys(source.activitiesByType), ...Object.keys(copy.activitiesByType)])) {
    cmp(`${t} activities`, source.activitiesByType[t] ?? 0, copy.activitiesByType[t] ?? 0);
  }
  cmp('files', source.fileCount, copy.fileCount);
  cmp('file bytes', source.declaredBytes, copy.declaredBytes);
  return diffs;
}

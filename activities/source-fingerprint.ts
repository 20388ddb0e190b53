// What proves a source course unchanged: a digest of what the web services
// show of it, in four parts an admin can name. Recorded on a real Moodle 4.5
// (test/fixtures/moodle-4.5.11/source-edits.json): editing the course's
// settings moves its timemodified and cacherev; adding or hiding an activity,
// or editing a section, moves cacherev and the contents; a file uploaded into
// an activity, or a page's text edited, moves only that activity's file list
// (names, sizes, times). A backup moves nothing. Student work (forum posts,
// submissions) shows in none of these answers.
import { createHash } from 'node:crypto';
import type { MoodleClient, MoodleCourse, MoodleSection } from './moodle/client';

export const FINGERPRINT_PARTS = ['settings', 'revision', 'sections', 'activities', 'files'] as const;
export type FingerprintPart = (typeof FINGERPRINT_PARTS)[number];

/** "settings:<hash> revision:<hash> sections:<hash> …": one string, kept in facts and in the catalog. */
export type SourceFingerprint = string;

const digest = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);

export function sourceFingerprint(course: MoodleCourse, sections: MoodleSection[]): SourceFingerprint {
  const c = course as MoodleCourse & Record<string, unknown>;
  const parts: Record<FingerprintPart, unknown> = {
    // timemodified moves on a settings edit; cacherev, Moodle's own mark, on any change to modules or sections
    // (and on a cache purge: a false alarm costs one more backup, never a deletion).
    settings: [c.id, c.shortname, c.fullname, c.idnumber ?? '', c.categoryid, c.visible, c.summary, c.startdate, c.enddate, c.timemodified],
    revision: c.cacherev,
    sections: sections.map((s) => [s.id, s.section, s.name, s.summary ?? '', s.visible]),
    activities: sections.flatMap((s) => s.modules.map((m) => [s.id, m.id, m.modname, m.instance, m.name, m.visible])),
    files: sections.flatMap((s) =>
      s.modules.flatMap((m) => (m.contents ?? []).map((f) => [m.id, f.type, f.filepath, f.filename, f.filesize, f.timemodified])),
    ),
  };
  return FINGERPRINT_PARTS.map((p) => `${p}:${digest(parts[p])}`).join(' ');
}

/** The parts that differ; none when the course is as fingerprinted. */
export function fingerprintChanges(before: SourceFingerprint, now: SourceFingerprint): FingerprintPart[] {
  const parse = (f: string) => Object.fromEntries(f.split(' ').map((kv) => kv.split(':')));
  const a = parse(before);
  const b = parse(now);
  return FINGERPRINT_PARTS.filter((p) => a[p] !== b[p]);
}

/** Reads the live course: its fingerprint, or undefined when it no longer exists. */
export async function liveFingerprint(client: MoodleClient, courseId: number): Promise<SourceFingerprint | undefined> {
  const [meta] = await client.coursesByField('id', courseId);
  if (!meta) return undefined;
  return sourceFingerprint(meta, await client.contents(courseId));
}

const PART_WORDS: Record<FingerprintPart, string> = {
  settings: 'settings',
  revision: "Moodle's revision of its contents (cacherev)",
  sections: 'sections',
  activities: 'activities',
  files: 'files',
};

/** What an admin reads when a course changed while it was archived. */
export const describeChanges = (parts: FingerprintPart[]) => `its ${parts.map((p) => PART_WORDS[p]).join(', ')} changed`;

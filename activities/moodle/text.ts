// Names as Moodle means them. A course's full name is stored raw (what the
// teacher typed, and what a backup holds), but the web services answer it
// through format_string: tags stripped, and `&`, `<`, `>` escaped as entities
// (`Maths & Physics` comes back `Maths &amp; Physics`). The archiver compares,
// shows and records names as a reader sees them: entities decoded.
import { decodeHTML } from 'entities';

/** A name from a web-service answer, as the reader sees it. */
export const decodeName = (s: string): string => decodeHTML(s);

/** A raw name (from a backup) as the web services would show it once decoded: tags stripped, entities decoded. */
export const displayedName = (raw: string): string => decodeHTML(raw.replace(/<[^>]*>?/g, ''));

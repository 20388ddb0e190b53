export { archiveSession } from './archive-session';
export { archiveCourse } from './archive-course';

export { archiveSession } from './archive-session';
export { archiveCourse } from './archive-course';
export { checkSetup } from './check-setup';
export { checkCategories } from './check-categories';
export { planSession } from './plan-session';
export { expireArchives } from './expire-archives';

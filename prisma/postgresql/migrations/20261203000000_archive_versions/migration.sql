-- A course archived again because it changed since its archive gets a new version; the older one is kept.
-- AlterTable
ALTER TABLE "ArchivedCourse" ADD COLUMN "version" INTEGER NOT NULL DEFAULT 1;
ALTER TABLE "ArchivedCourse" ADD COLUMN "sourceFingerprint" TEXT;

-- DropIndex
DROP INDEX "ArchivedCourse_sourceSiteId_sourceCourseId_key";

-- CreateIndex
CREATE UNIQUE INDEX "ArchivedCourse_sourceSiteId_sourceCourseId_version_key" ON "ArchivedCourse"("sourceSiteId", "sourceCourseId", "version");

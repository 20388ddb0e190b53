-- CreateTable
CREATE TABLE "ArchivedCourse" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "sessionId" TEXT NOT NULL,
    "vintage" TEXT NOT NULL,
    "sourceSiteId" TEXT NOT NULL,
    "sourceCourseId" INTEGER NOT NULL,
    "shortname" TEXT NOT NULL,
    "fullname" TEXT NOT NULL,
    "idnumber" TEXT NOT NULL DEFAULT '',
    "sourceCategoryId" INTEGER NOT NULL,
    "targetSiteId" TEXT NOT NULL,
    "targetCourseId" INTEGER,
    "targetCategoryId" INTEGER,
    "storageLocation" TEXT,
    "mbzBytes" BIGINT NOT NULL,
    "mbzSha256" TEXT NOT NULL,
    "verified" BOOLEAN NOT NULL DEFAULT false,
    "sourceDeleted" BOOLEAN NOT NULL DEFAULT false,
    "preparedAt" DATETIME,
    "backedUpAt" DATETIME,
    "transportedAt" DATETIME,
    "restoredAt" DATETIME,
    "verifiedAt" DATETIME,
    "cleanedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "ArchivedCourse_sessionId_idx" ON "ArchivedCourse"("sessionId");

-- CreateIndex
CREATE UNIQUE INDEX "ArchivedCourse_sourceSiteId_sourceCourseId_key" ON "ArchivedCourse"("sourceSiteId", "sourceCourseId");

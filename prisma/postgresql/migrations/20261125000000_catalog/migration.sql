-- CreateTable
CREATE TABLE "ArchivedCourse" (
    "id" SERIAL NOT NULL,
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
    "categoryPath" TEXT NOT NULL DEFAULT '',
    "storageLocation" TEXT,
    "packageSha256" TEXT,
    "mbzBytes" BIGINT NOT NULL,
    "mbzSha256" TEXT NOT NULL,
    "verified" BOOLEAN NOT NULL DEFAULT false,
    "sourceDeleted" BOOLEAN NOT NULL DEFAULT false,
    "preparedAt" TIMESTAMP(3),
    "backedUpAt" TIMESTAMP(3),
    "transportedAt" TIMESTAMP(3),
    "restoredAt" TIMESTAMP(3),
    "verifiedAt" TIMESTAMP(3),
    "cleanedAt" TIMESTAMP(3),
    "retentionUntil" TIMESTAMP(3),
    "expiredAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ArchivedCourse_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LedgerEntry" (
    "seq" INTEGER NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "entryKey" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "sourceSiteId" TEXT NOT NULL,
    "sourceCourseId" INTEGER NOT NULL,
    "detail" TEXT NOT NULL,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "LedgerEntry_pkey" PRIMARY KEY ("seq")
);

-- CreateIndex
CREATE INDEX "ArchivedCourse_sessionId_idx" ON "ArchivedCourse"("sessionId");

-- CreateIndex
CREATE UNIQUE INDEX "ArchivedCourse_sourceSiteId_sourceCourseId_key" ON "ArchivedCourse"("sourceSiteId", "sourceCourseId");

-- CreateIndex
CREATE UNIQUE INDEX "LedgerEntry_entryKey_key" ON "LedgerEntry"("entryKey");

-- CreateIndex
CREATE UNIQUE INDEX "LedgerEntry_prevHash_key" ON "LedgerEntry"("prevHash");

-- CreateIndex
CREATE UNIQUE INDEX "LedgerEntry_hash_key" ON "LedgerEntry"("hash");

-- CreateIndex
CREATE INDEX "LedgerEntry_sourceSiteId_sourceCourseId_idx" ON "LedgerEntry"("sourceSiteId", "sourceCourseId");

-- AlterTable
ALTER TABLE "ArchivedCourse" ADD COLUMN "categoryPath" TEXT NOT NULL DEFAULT '';
ALTER TABLE "ArchivedCourse" ADD COLUMN "packageSha256" TEXT;
ALTER TABLE "ArchivedCourse" ADD COLUMN "retentionUntil" DATETIME;
ALTER TABLE "ArchivedCourse" ADD COLUMN "expiredAt" DATETIME;

-- CreateTable
CREATE TABLE "LedgerEntry" (
    "seq" INTEGER NOT NULL PRIMARY KEY,
    "at" DATETIME NOT NULL,
    "entryKey" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "sourceSiteId" TEXT NOT NULL,
    "sourceCourseId" INTEGER NOT NULL,
    "detail" TEXT NOT NULL,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "LedgerEntry_entryKey_key" ON "LedgerEntry"("entryKey");

-- CreateIndex
CREATE UNIQUE INDEX "LedgerEntry_prevHash_key" ON "LedgerEntry"("prevHash");

-- CreateIndex
CREATE UNIQUE INDEX "LedgerEntry_hash_key" ON "LedgerEntry"("hash");

-- CreateIndex
CREATE INDEX "LedgerEntry_sourceSiteId_sourceCourseId_idx" ON "LedgerEntry"("sourceSiteId", "sourceCourseId");

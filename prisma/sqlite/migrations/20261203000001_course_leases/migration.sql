-- One run per source course at a time: the course workflow that holds it.
-- CreateTable
CREATE TABLE "CourseLease" (
    "sourceSiteId" TEXT NOT NULL,
    "sourceCourseId" INTEGER NOT NULL,
    "holder" TEXT NOT NULL,
    "since" DATETIME NOT NULL,

    PRIMARY KEY ("sourceSiteId", "sourceCourseId")
);

-- One run per source course at a time: the course workflow that holds it.
-- CreateTable
CREATE TABLE "CourseLease" (
    "sourceSiteId" TEXT NOT NULL,
    "sourceCourseId" INTEGER NOT NULL,
    "holder" TEXT NOT NULL,
    "since" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CourseLease_pkey" PRIMARY KEY ("sourceSiteId","sourceCourseId")
);

// The archiver's own metrics, recorded by the workflows (the SDK emits a workflow's metrics once, never on
// replay) and exported with the SDK's by each worker's Prometheus endpoint (config `metrics.bindAddress`).
import { metricMeter } from '@temporalio/workflow';

/** Courses that ended, by status (succeeded, failed, skipped, cancelled). */
export const coursesFinished = metricMeter.createCounter('archiver_courses_finished', 'courses', 'courses that ended, by status');
/** Each phase a course ran, how long it took. */
export const phaseDuration = metricMeter.createHistogram('archiver_phase_duration', 'float', 's', 'how long each phase took, by phase');
/** A course's step failed (it waits for a decision), by the failure's type. */
export const courseFailures = metricMeter.createCounter('archiver_course_failures', 'failures', 'course failures, by type and phase');
/** 1 while the session's window is open (or it has none), 0 while closed. */
export const windowOpen = metricMeter.createGauge('archiver_window_open', 'int', '', "1 while a session's window is open");

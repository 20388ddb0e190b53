<?php
// What a teacher does to a course, by Moodle's own API, for recording what each edit moves in the web services'
// answers (scripts/record-real-fixtures.ts) and for the real-site tests.
//   php teacher-edits.php MOODLEDIR EDIT COURSEID
// EDIT: settings (the full name), addpage (a new page), section (a section's summary), uploadfile (a file added
// to a resource, as the folder editor does it: no module update), pagetext (a page's text), hide (an activity),
// forumpost (a discussion: student-style work).
define('CLI_SCRIPT', true);
[, $moodledir, $edit, $courseid] = $argv;
require($moodledir . '/config.php');
require_once($CFG->dirroot . '/course/lib.php');
require_once($CFG->libdir . '/testing/generator/lib.php');
$courseid = (int)$courseid;
$course = get_course($courseid);
\core\session\manager::set_user(get_admin());
$first = function (string $modname) use ($course) {
    foreach (get_fast_modinfo($course)->get_cms() as $cm) {
        if ($cm->modname === $modname) {
            return $cm;
        }
    }
    throw new moodle_exception("no $modname in course {$course->id}");
};
switch ($edit) {
    case 'settings':
        update_course((object)['id' => $courseid, 'fullname' => $course->fullname . ' (edited)']);
        break;
    case 'addpage':
        (new testing_data_generator())->create_module('page', ['course' => $courseid, 'name' => 'Added page', 'content' => 'Added']);
        break;
    case 'section':
        $section = $DB->get_record('course_sections', ['course' => $courseid, 'section' => 1], '*', MUST_EXIST);
        course_update_section($course, $section, ['summary' => 'Edited at ' . time()]);
        break;
    case 'uploadfile':
        $cm = $first('resource');
        get_file_storage()->create_file_from_string(['contextid' => context_module::instance($cm->id)->id, 'component' => 'mod_resource',
            'filearea' => 'content', 'itemid' => 0, 'filepath' => '/', 'filename' => 'uploaded-' . time() . '.txt'], 'uploaded');
        break;
    case 'pagetext':
        $page = $DB->get_record('page', ['id' => $first('page')->instance], '*', MUST_EXIST);
        $DB->update_record('page', (object)['id' => $page->id, 'content' => 'Edited at ' . time(), 'timemodified' => time(),
            'revision' => $page->revision + 1]);
        break;
    case 'hide':
        set_coursemodule_visible($first('page')->id, 0);
        break;
    case 'forumpost':
        require_once($CFG->dirroot . '/mod/forum/lib.php');
        $forum = $DB->get_record('forum', ['course' => $courseid], '*', IGNORE_MULTIPLE);
        (new testing_data_generator())->get_plugin_generator('mod_forum')->create_discussion(
            ['course' => $courseid, 'forum' => $forum->id, 'userid' => get_admin()->id, 'message' => 'A post']);
        break;
    default:
        throw new moodle_exception("unknown edit $edit");
}
echo "edited: $edit\n";

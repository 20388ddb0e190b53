#!/usr/bin/env bash
# The real-Moodle suite renders a session's HTML report in a headless browser: Debian's chromium.
exec bash "$(dirname "$0")/ensure-debian-package.sh" chromium "the report's rendering check" 'command -v chromium'

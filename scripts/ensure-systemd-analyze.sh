#!/usr/bin/env bash
# The tests check the shipped systemd units with systemd-analyze verify: it comes with Debian's systemd package.
exec bash "$(dirname "$0")/ensure-debian-package.sh" systemd "systemd-analyze, to verify the shipped units" 'command -v systemd-analyze'

#!/usr/bin/env bash
# `php` for a simulated host whose admin scripts run inside the simulator's
# process (startSimulator's scriptsInServer, the benchmarks): hands the script
# and its arguments to the site's server, whose port and secret are in the
# site's config.json, prints what it answers and exits with its code (the
# answer's last line, "__php_exit <code>"). Only bash runs: no command
# substitution or helper program, so a script costs one process start.
set -u
export LC_ALL=C # ${#a} counts bytes, as Content-Length does
read -r -d '' json <"$(dirname "$1")/../../config.json"
re='"wwwroot":"http://127\.0\.0\.1:([0-9]+)"'
[[ $json =~ $re ]] || exit 1
port=${BASH_REMATCH[1]}
re='"secret":"([0-9a-f]+)"'
[[ $json =~ $re ]] || exit 1
secret=${BASH_REMATCH[1]}
# The arguments, each ended by a NUL byte: no argument can hold one.
length=0
for a in "$@"; do length=$((length + ${#a} + 1)); done
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'POST /__sim/php HTTP/1.0\r\nx-sim-secret: %s\r\nContent-Length: %d\r\n\r\n' "$secret" "$length" >&3
printf '%s\0' "$@" >&3
while IFS= read -r line <&3; do [[ "${line%$'\r'}" == "" ]] && break; done
code=1
while IFS= read -r line <&3 || [[ -n $line ]]; do
  if [[ $line == "__php_exit "* ]]; then code=${line#"__php_exit "}; else printf '%s\n' "$line"; fi
done
exit "$code"

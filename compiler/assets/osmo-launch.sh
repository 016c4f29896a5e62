#!/bin/sh
# osmo-compiler launcher: what OSMO's osmo_exec does around a task's command and Argo cannot.
#   1. regex filters on inputs: files under /osmo/data/input/N that do not match are removed;
#   2. runs the command (signals are forwarded to it);
#   3. exitActions: the first action whose codes contain the exit code wins;
#      COMPLETE -> the task succeeds (exit 0), FAIL -> it fails, RESCHEDULE -> the exit code is kept
#      so that the template's retryStrategy can match it;
#   4. regex filters on outputs: on success, matching files of /osmo/data/output are copied to
#      /osmo/data/upload/N, which is what the URL output N uploads.
# Regexes are Python regexes matched (re.match) against the path relative to the directory;
# without python3 in the image, grep -E is used (the same for ordinary expressions).
# Configuration comes from the environment set by the compiler (OSMO_INPUT_FILTERS, ...).
set -u

osmo_list() {  # osmo_list DIR REGEX: relative paths of the files of DIR that match REGEX
  if command -v python3 >/dev/null 2>&1; then
    python3 -c '
import os, re, sys
root, pattern = sys.argv[1], re.compile(sys.argv[2])
for base, _, names in os.walk(root):
    for name in names:
        rel = os.path.relpath(os.path.join(base, name), root)
        if pattern.match(rel) if len(sys.argv) < 4 else not pattern.match(rel):
            print(rel)
' "$@"
  else
    if [ $# -lt 3 ]; then flag=; else flag=-v; fi
    (cd "$1" && find . -type f | sed 's|^\./||' | grep -E $flag -e "^($2)")
  fi
}

for i in ${OSMO_INPUT_FILTERS:-}; do
  eval "regex=\${OSMO_INPUT_FILTER_$i}"
  dir=/osmo/data/input/$i
  [ -d "$dir" ] || continue
  osmo_list "$dir" "$regex" invert | while IFS= read -r f; do rm -f -- "$dir/$f"; done
  echo "osmo-launch: input $i filtered by regex $regex" >&2
done

"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
wait "$child"
rc=$?
while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done

osmo_in() {  # osmo_in CODE LIST: is CODE in a list such as 1,3-5,16
  for part in $(echo "$2" | tr ',' ' '); do
    lo=${part%-*}; hi=${part#*-}
    if [ "$1" -ge "$lo" ] && [ "$1" -le "$hi" ]; then return 0; fi
  done
  return 1
}
for entry in ${OSMO_EXIT_ACTIONS:-}; do
  action=${entry%%:*}
  if osmo_in "$rc" "${entry#*:}"; then
    case $action in
      COMPLETE) echo "osmo-launch: exit code $rc -> COMPLETE" >&2; rc=0 ;;
      FAIL) echo "osmo-launch: exit code $rc -> FAIL" >&2; [ "$rc" -eq 0 ] && rc=1 ;;
      RESCHEDULE) echo "osmo-launch: exit code $rc -> RESCHEDULE" >&2 ;;
    esac
    break
  fi
done

if [ "$rc" -eq 0 ]; then
  for j in ${OSMO_OUTPUT_FILTERS:-}; do
    eval "regex=\${OSMO_OUTPUT_FILTER_$j}"
    dest=/osmo/data/upload/$j
    mkdir -p "$dest"
    osmo_list /osmo/data/output "$regex" | while IFS= read -r f; do
      mkdir -p "$dest/$(dirname "$f")" && cp -p -- "/osmo/data/output/$f" "$dest/$f"
    done
  done
fi
exit "$rc"

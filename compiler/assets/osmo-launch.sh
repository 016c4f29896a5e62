#!/bin/sh
# osmo-compiler launcher: what OSMO's osmo_exec does around a task's command and Argo cannot.
#   1. URL inputs land as OSMO lands them: one object at /osmo/data/input/N/<its name>, a prefix's objects
#      under /osmo/data/input/N, nothing at the URL an empty folder (Argo puts a single object at the path itself);
#   2. regex filters on inputs: files under /osmo/data/input/N that do not match are removed;
#   3. runs the command (signals are forwarded to it; its own exit code is kept);
#   4. exitActions: the first action whose codes contain the exit code wins;
#      COMPLETE -> the task succeeds (exit 0), FAIL -> it fails, RESCHEDULE -> the exit code is kept
#      so that the template's retryStrategy can match it;
#   5. outputs upload only after success, as OSMO: Argo uploads whatever is in /osmo/data/output, even
#      after a failure, so a failed task's output directory is emptied (OSMO_OUTPUT_GATE);
#   6. regex filters on outputs: on success, matching files of /osmo/data/output are copied to
#      /osmo/data/upload/N, which is what the URL output N uploads;
#   7. a group's non-lead task (OSMO_DAEMON, an Argo daemon): Argo fails a daemon whose pod ends by itself,
#      even with exit 0, where OSMO has the task COMPLETED. So after success (outputs already in place) it idles
#      until Argo stops it with its group (SIGTERM), then exits 0; a failure exits with its code at once.
# Regexes are Python regexes matched (re.match) against the path relative to the directory. Without
# python3 in the image, grep -E is used only for regexes the compiler found to mean the same in both
# (OSMO_REGEX_NEEDS_PYTHON unset); otherwise the task fails with a message, never filters wrongly.
# Configuration comes from the environment set by the compiler (OSMO_INPUT_FILTERS, ...).
set -u
d=${OSMO_LAUNCH_ROOT:-/osmo/data}  # the data root (tests run the launcher elsewhere)
list=${TMPDIR:-/tmp}/osmo-launch.$$

osmo_fail() {
  echo "osmo-launch: $*" >&2
  rm -f "$list"
  exit 127
}

osmo_list() {  # osmo_list DIR REGEX [invert]: relative paths of the files of DIR that match REGEX (or not)
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
  elif [ -n "${OSMO_REGEX_NEEDS_PYTHON:-}" ]; then
    echo "osmo-launch: regex \"$2\" needs python3 (Python's re), which this image does not have" >&2
    return 2
  else
    if [ $# -lt 3 ]; then flag=; else flag=-v; fi
    # grep: 0 some lines, 1 none, 2 an error (which must not read as "no file matches")
    (cd "$1" && find . -type f | sed 's|^\./||' | grep -E $flag -e "^($2)"; [ $? -le 1 ])
  fi
}

for i in ${OSMO_URL_INPUTS:-}; do
  eval "name=\${OSMO_URL_INPUT_NAME_$i}"
  dir=$d/input/$i
  if [ -d "$dir" ]; then
    :
  elif [ -e "$dir" ]; then  # one object: OSMO puts it into the folder, under its own name
    { mv -- "$dir" "$dir.osmo-object" && mkdir -p "$dir" && mv -- "$dir.osmo-object" "$dir/$name"; } ||
      osmo_fail "cannot place input $i at $dir/$name"
  else  # nothing at the URL: OSMO gives an empty folder
    mkdir -p "$dir" || osmo_fail "cannot create $dir"
    echo "osmo-launch: input $i is empty" >&2
  fi
done

for i in ${OSMO_INPUT_FILTERS:-}; do
  eval "regex=\${OSMO_INPUT_FILTER_$i}"
  dir=$d/input/$i
  [ -d "$dir" ] || continue
  osmo_list "$dir" "$regex" invert >"$list" || osmo_fail "input $i: cannot apply regex $regex"
  while IFS= read -r f; do rm -f -- "$dir/$f"; done <"$list"
  echo "osmo-launch: input $i filtered by regex $regex" >&2
done

# A signal interrupts `wait`; the trap forwards it and the loop waits again for the command's own code
# (a `kill -0` test would miss a child that the shell has already reaped, and report 143).
osmo_sig=0
osmo_stop=0  # a signal came at all: a daemon that is already being stopped must not start idling
trap 'osmo_sig=1; osmo_stop=1; [ -n "${child:-}" ] && kill -TERM "$child" 2>/dev/null' TERM INT
"$@" &
child=$!
wait "$child"
rc=$?
while [ "$osmo_sig" = 1 ]; do
  osmo_sig=0
  wait "$child"
  rc=$?
done

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

if [ "$rc" -ne 0 ] && [ -n "${OSMO_OUTPUT_GATE:-}" ]; then
  echo "osmo-launch: the task failed (exit code $rc): its outputs are not uploaded" >&2
  rm -rf -- "$d/output"/* "$d/output"/.[!.]* "$d/output"/..?*
fi

if [ "$rc" -eq 0 ]; then
  for j in ${OSMO_OUTPUT_FILTERS:-}; do
    eval "regex=\${OSMO_OUTPUT_FILTER_$j}"
    dest=$d/upload/$j
    mkdir -p "$dest"
    osmo_list "$d/output" "$regex" >"$list" || osmo_fail "output $j: cannot apply regex $regex"
    while IFS= read -r f; do
      mkdir -p "$dest/$(dirname "$f")" && cp -p -- "$d/output/$f" "$dest/$f"
    done <"$list"
  done
fi
rm -f "$list"

if [ "$rc" -eq 0 ] && [ -n "${OSMO_DAEMON:-}" ]; then
  echo "osmo-launch: the task completed; it stays up until its group's lead ends" >&2
  idle=
  trap 'osmo_stop=1; [ -n "$idle" ] && kill "$idle" 2>/dev/null' TERM INT
  # short sleeps: a signal that lands between the test and `wait` delays the exit by one sleep at most
  while [ "$osmo_stop" = 0 ]; do
    sleep 5 &
    idle=$!
    wait "$idle" 2>/dev/null  # a sleep killed with the process group: no "Terminated" line
  done
fi
exit "$rc"

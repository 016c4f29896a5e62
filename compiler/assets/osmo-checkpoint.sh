# osmo-compiler checkpoint sidecar: uploads OSMO_CKPT_DIR (the task's checkpoint path, whose last
# component is OSMO_CKPT_BASE) to OSMO_CKPT_DEST (an rclone remote path ending in /OSMO_CKPT_BASE, as
# OSMO writes <url>/<basename(path)>/...) every OSMO_CKPT_FREQUENCY seconds, counted from the end of one
# upload to the start of the next, and once more when the task ends (the sidecar is then sent SIGTERM).
# Only files whose path "<OSMO_CKPT_BASE>/<path in the directory>" matches OSMO_CKPT_REGEX (grep -E,
# anchored at the start, as OSMO's re.match) are uploaded.
# The final upload runs once (further SIGTERMs are ignored, also by rclone) and is cut after
# OSMO_CKPT_GRACE seconds, inside the pod's termination grace period (30s by default).
osmo_upload() { # extra rclone flags as arguments; runs rclone in the background so that it can be bounded
  list=$(mktemp)
  (cd "$OSMO_CKPT_DIR" && find . -type f | sed 's|^\./||' | awk '{ print ENVIRON["OSMO_CKPT_BASE"] "/" $0 }' \
    | grep -E -e "^(${OSMO_CKPT_REGEX:-.*})" | cut -c "$((${#OSMO_CKPT_BASE} + 2))-") > "$list"
  if [ -s "$list" ]; then
    rclone copy "$@" --files-from-raw "$list" "$OSMO_CKPT_DIR" "$OSMO_CKPT_DEST" &
    osmo_rclone=$!
    wait "$osmo_rclone" || echo "osmo-checkpoint: upload failed" >&2
  fi
  rm -f "$list"
}
osmo_final() {
  trap '' TERM INT
  grace=${OSMO_CKPT_GRACE:-25}
  (
    sleep "$grace"
    echo "osmo-checkpoint: final upload cut after ${grace}s" >&2
    kill -KILL 0
  ) &
  dog=$!
  osmo_upload --max-duration "${grace}s" --cutoff-mode hard
  kill -KILL "$dog" 2>/dev/null
  exit 0
}
trap osmo_final TERM INT
while true; do
  sleep "$OSMO_CKPT_FREQUENCY" &
  wait $!
  osmo_upload
done

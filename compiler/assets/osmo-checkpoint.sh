# osmo-compiler checkpoint sidecar: uploads OSMO_CKPT_DIR to OSMO_CKPT_DEST (an rclone remote path)
# every OSMO_CKPT_FREQUENCY seconds, counted from the end of one upload to the start of the next,
# and once more when the task ends (the sidecar is then sent SIGTERM). Only files whose path
# relative to the directory matches OSMO_CKPT_REGEX (grep -E, anchored at the start) are uploaded.
osmo_checkpoint() {
  list=$(mktemp)
  (cd "$OSMO_CKPT_DIR" && find . -type f | sed 's|^\./||' | grep -E -e "^(${OSMO_CKPT_REGEX:-.*})") > "$list"
  if [ -s "$list" ]; then
    rclone copy --files-from-raw "$list" "$OSMO_CKPT_DIR" "$OSMO_CKPT_DEST" || echo "osmo-checkpoint: upload failed" >&2
  fi
  rm -f "$list"
}
trap 'osmo_checkpoint; exit 0' TERM INT
while true; do
  sleep "$OSMO_CKPT_FREQUENCY" &
  wait $!
  osmo_checkpoint
done

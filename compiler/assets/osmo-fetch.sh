# osmo-compiler input fetcher, an init container (image: the profile's uploader, rclone): downloads one
# gs:// URL input the way OSMO does (backends/s3.py :868-878), into the pod's input volume before the task starts.
#   OSMO_FETCH_SRC   the rclone remote path, osmo:<bucket>/<key> (remote "osmo" configured by RCLONE_CONFIG_OSMO_*)
#   OSMO_FETCH_DEST  the input's folder, /osmo/data/input/N
# `rclone copy` looks the key up as an object first: one object lands at DEST/<its name>. Otherwise it lists
# "<key>/" and copies the folder's objects relative to it, so sibling prefixes (<key>2/..., <key>.bak) are not
# fetched, as in OSMO and unlike Argo's GCS driver (runtime-audit #14). A prefix with no objects lists as empty
# (exit 0, nothing copied): the folder made first is then the empty folder OSMO gives.
# Any failure (auth, network, a missing bucket: rclone's "directory not found", exit code 3) fails the init
# container with rclone's own message and a summary in the termination log.
set -u
dest=${OSMO_FETCH_DEST:?OSMO_FETCH_DEST is not set}
mkdir -p "$dest" || exit 1
rclone copy "$OSMO_FETCH_SRC" "$dest"
rc=$?
if [ "$rc" -eq 0 ]; then
  echo "osmo-fetch: $OSMO_FETCH_SRC -> $dest: $(find "$dest" -type f | wc -l | tr -d ' ') files"
  exit 0
fi
case $rc in
  3) why="directory not found (does the bucket exist?)" ;;
  *) why="rclone exit code $rc" ;;
esac
message="osmo-fetch: cannot download $OSMO_FETCH_SRC: $why"
echo "$message" >&2
echo "$message" > "${OSMO_TERMINATION_LOG:-/dev/termination-log}" 2>/dev/null
exit "$rc"

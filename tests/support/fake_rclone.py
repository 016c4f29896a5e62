"""A fake ``rclone`` (POSIX sh) for the gs:// input fetcher: ``copy osmo:<bucket>/<key> DEST`` over a folder.

The remote ``osmo:<bucket>/<key>`` is ``<storage>/gs/<bucket>/<key>``, the ``osmo run --storage`` layout. It behaves
as rclone's GCS backend (backend/googlecloudstorage: ``NewFs`` looks the key up as an object first, ``list`` lists
``<key>/``): an object is copied into DEST under its name; a folder's files are copied into DEST relative to it
(never a sibling ``<key>2/`` or ``<key>.bak``); an absent prefix copies nothing and exits 0; a missing bucket is
"directory not found", exit 3 (lib/exitcode). It refuses to run without the remote's configuration in the
environment (``RCLONE_CONFIG_OSMO_TYPE``, ``..._SERVICE_ACCOUNT_CREDENTIALS``), and credentials ``bad`` fail as
an authentication error does (exit 1). Each call is appended to ``<storage>/rclone.calls``.
"""

from __future__ import annotations

from pathlib import Path

SCRIPT = r"""#!/bin/sh
storage='@STORAGE@'
echo "$*" >> "$storage/rclone.calls"
[ "$1" = copy ] || { echo "fake rclone: only copy" >&2; exit 1; }
src=$2 dest=$3
if [ "${RCLONE_CONFIG_OSMO_TYPE:-}" != "google cloud storage" ]; then
  echo "fake rclone: remote osmo not configured" >&2
  exit 1
fi
case ${RCLONE_CONFIG_OSMO_SERVICE_ACCOUNT_CREDENTIALS:-} in
  '') echo "fake rclone: no credentials" >&2; exit 1 ;;
  bad) echo "ERROR : failed configuring Google Cloud Storage Service Account: bad credentials" >&2; exit 1 ;;
esac
path=${src#osmo:}
path=${path%/}
bucket=${path%%/*}
if [ ! -d "$storage/gs/$bucket" ]; then
  echo "ERROR : error reading source root directory: directory not found" >&2
  exit 3
fi
object=$storage/gs/$path
mkdir -p "$dest" || exit 1
if [ -f "$object" ]; then
  cp "$object" "$dest/" || exit 1
elif [ -d "$object" ]; then
  cp -R "$object/." "$dest/" || exit 1
fi
exit 0
"""


def write_fake_rclone(folder: Path, storage: Path) -> Path:
    """Write ``folder/rclone`` (executable) serving ``storage``; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rclone"
    path.write_text(SCRIPT.replace("@STORAGE@", str(storage)))
    path.chmod(0o755)
    return path

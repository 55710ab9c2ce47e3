#!/usr/bin/env bash
# Copy a published snapshot to the replicas' machines atomically; each replica picks it up at its next rerun.
#   deploy/push_snapshot.sh warehouse/public.duckdb web1:/srv/keck-atlas/public.duckdb web2:/srv/keck-atlas/public.duckdb
# A destination is [user@]host:/path (rsync, or scp without rsync, then ssh) or a local path. The file is first
# copied to a temporary name next to the target, then renamed over it: a replica never sees a half-copied file
# (rename on one file system is atomic; the replica reopens the snapshot when its inode changes).
set -euo pipefail
SNAPSHOT=${1:?"usage: deploy/push_snapshot.sh SNAPSHOT DEST..."}
shift
trap '[[ "${dest:-}" == *:* ]] || rm -f "${tmp:-}"' EXIT  # a local copy that failed leaves nothing behind
[ "$#" -gt 0 ] || { echo "usage: deploy/push_snapshot.sh SNAPSHOT DEST..." >&2; exit 2; }
[ -f "$SNAPSHOT" ] || { echo "Schnappschuss $SNAPSHOT fehlt (python -m keck_data publish)" >&2; exit 1; }
for dest in "$@"; do
    if [[ "$dest" == *:* ]]; then
        host=${dest%%:*}
        path=${dest#*:}
        tmp="$(dirname "$path")/.$(basename "$path").tmp.$$"
        if command -v rsync >/dev/null; then rsync --checksum "$SNAPSHOT" "$host:$tmp"; else scp -q "$SNAPSHOT" "$host:$tmp"; fi
        ssh "$host" "mv -f '$tmp' '$path'"
    else
        tmp="$(dirname "$dest")/.$(basename "$dest").tmp.$$"
        cp "$SNAPSHOT" "$tmp"
        mv -f "$tmp" "$dest"
    fi
    echo "$dest: aktualisiert"
done

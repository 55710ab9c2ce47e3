#!/usr/bin/env bash
# Run N public replicas of the atlas and Debian's nginx in front of them on this machine, until Ctrl-C.
#   deploy/run_public_cluster.sh N
# The replicas (python -m keck_data.ui.serve, KECK_MODE=public) listen on 127.0.0.1, ports BASE+1 … BASE+N
# (8601 … 860N), all reading the same snapshot KECK_PUBLIC_WAREHOUSE read-only; nginx runs deploy/nginx.conf
# with these replicas as upstream, on https://127.0.0.1:KECK_HTTPS_PORT (8443, a self-signed certificate unless
# KECK_TLS_CERT/KECK_TLS_KEY are given) and http://127.0.0.1:KECK_HTTP_PORT (8080, redirects to https).
# Settings: KECK_BASE_PORT (8600), KECK_CLUSTER_DIR (logs, pid files, the rendered nginx.conf; default: a new
# temporary folder). Prints "ready: <https address>" once nginx answers; stops everything on exit.
set -euo pipefail
N=${1:?"usage: deploy/run_public_cluster.sh N (number of public replicas)"}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${KECK_PYTHON:-$ROOT/.venv/bin/python}
BASE=${KECK_BASE_PORT:-8600}
HTTPS=${KECK_HTTPS_PORT:-8443}
HTTP=${KECK_HTTP_PORT:-8080}
DIR=${KECK_CLUSTER_DIR:-$(mktemp -d -t keck-cluster.XXXXXX)}
SNAPSHOT=${KECK_PUBLIC_WAREHOUSE:-$ROOT/warehouse/public.duckdb}
mkdir -p "$DIR/cache" "$DIR/tmp"
[ -f "$SNAPSHOT" ] || { echo "Kein veröffentlichter Datenstand unter $SNAPSHOT (python -m keck_data publish)" >&2; exit 1; }
command -v nginx >/dev/null || { echo "nginx fehlt (apt-get install nginx)" >&2; exit 1; }

pids=()
stop() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT
trap 'exit 0' INT TERM

# One cookie secret for all replicas: Streamlit's signed cookies stay valid when a visitor moves to another one
export STREAMLIT_SERVER_COOKIE_SECRET=${STREAMLIT_SERVER_COOKIE_SECRET:-$(head -c 32 /dev/urandom | base64)}
for i in $(seq 1 "$N"); do
    port=$((BASE + i))
    KECK_MODE=public KECK_PUBLIC_WAREHOUSE="$SNAPSHOT" KECK_CLIENT_HEADER=X-Real-IP \
        "$PY" -m keck_data.ui.serve --server.port "$port" --server.address 127.0.0.1 --server.headless true \
        --browser.gatherUsageStats false --server.fileWatcherType none >"$DIR/replica-$port.log" 2>&1 &
    pids+=($!)
    echo $! >"$DIR/replica-$port.pid"
done

CERT=${KECK_TLS_CERT:-$DIR/cert.pem}
KEY=${KECK_TLS_KEY:-$DIR/key.pem}
[ -f "$CERT" ] || openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 30 \
    -keyout "$KEY" -out "$CERT" 2>/dev/null
# deploy/nginx.conf with this machine's replicas, ports, certificate and folders
for i in $(seq 1 "$N"); do echo "    server 127.0.0.1:$((BASE + i)) max_fails=1 fail_timeout=10s;"; done >"$DIR/upstream"
sed -e '/^    server 127\.0\.0\.1:86[0-9][0-9] /d' -e "/hash \$keck_route consistent;/r $DIR/upstream" \
    -e "s#/var/cache/nginx/keck#$DIR/cache#" -e "s#/etc/ssl/certs/atlas.example.de.pem#$CERT#" \
    -e "s#/etc/ssl/private/atlas.example.de.key#$KEY#" -e "s#listen 443 ssl;#listen 127.0.0.1:$HTTPS ssl;#" \
    -e "s#listen 80;#listen 127.0.0.1:$HTTP;#" -e '/listen \[::\]/d' "$ROOT/deploy/nginx.conf" >"$DIR/site.conf"
cat >"$DIR/nginx.conf" <<EOF
user $(id -un);  # workers as the caller: they write the cache into this (perhaps private) folder
pid $DIR/nginx.pid;
error_log $DIR/error.log;
events { worker_connections 4096; }
http {
    include /etc/nginx/mime.types;
    log_format keck '\$remote_addr [\$time_local] "\$request" \$status upstream=\$upstream_addr route=\$keck_route';
    access_log $DIR/access.log keck;
    client_body_temp_path $DIR/tmp/body;
    proxy_temp_path $DIR/tmp/proxy;
    fastcgi_temp_path $DIR/tmp/fastcgi;
    uwsgi_temp_path $DIR/tmp/uwsgi;
    scgi_temp_path $DIR/tmp/scgi;
    include $DIR/site.conf;
}
EOF

for i in $(seq 1 "$N"); do  # a replica is up when its health check answers
    port=$((BASE + i))
    for _ in $(seq 1 240); do
        curl -sf "http://127.0.0.1:$port/_stcore/health" >/dev/null && break
        kill -0 "${pids[$((i - 1))]}" 2>/dev/null || { cat "$DIR/replica-$port.log" >&2; exit 1; }
        sleep 0.25
    done
done
nginx -c "$DIR/nginx.conf" -p "$DIR" -g "daemon off;" &
pids+=($!)
for _ in $(seq 1 80); do
    curl -skf "https://127.0.0.1:$HTTPS/_stcore/health" >/dev/null && break
    sleep 0.25
done
echo "ready: https://127.0.0.1:$HTTPS (replicas: ports $((BASE + 1))-$((BASE + N)), folder $DIR)"
wait

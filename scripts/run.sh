#!/usr/bin/env bash
# Start the atlas on localhost with the Musterstadt demo data (built on first start).
# Options are passed to Streamlit, e.g. --server.port 8502. KECK_MODE=public starts the public instance.
source "$(dirname "$0")/setup_env.sh" requirements.txt
if [ "${KECK_MODE:-internal}" = "public" ]; then
    if [ ! -f "${KECK_PUBLIC_WAREHOUSE:-warehouse/public.duckdb}" ]; then
        .venv/bin/python -m keck_data init-demo   # a fresh machine: publish the demo data first
        .venv/bin/python -m keck_data publish
    fi
else
    .venv/bin/python -m keck_data init-demo
    .venv/bin/python -m keck_data init-auth   # first start: random cookie key, one demo login per role
    # a first public snapshot, so a public instance can start next to this one (later: "Veröffentlichen")
    [ -f "${KECK_PUBLIC_WAREHOUSE:-warehouse/public.duckdb}" ] || .venv/bin/python -m keck_data publish
fi
exec .venv/bin/python -m keck_data.ui.serve --server.address "${KECK_ADDRESS:-localhost}" \
    --server.headless true --browser.gatherUsageStats false "$@"

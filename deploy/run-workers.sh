#!/usr/bin/env bash
# The production command: N daphne processes on 127.0.0.1:FIRST_PORT.., sharing Redis and the database.
# Usage: deploy/run-workers.sh [WORKERS] [FIRST_PORT]   (defaults: one per core, 8001)
# Needs DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL and REDIS_URL in the environment.
# On SIGTERM every process drains: partners are told at once, browsers reconnect to the others.
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-$(nproc)}
first_port=${2:-8001}
python=${PYTHON:-.venv/bin/python}
: "${REDIS_URL:?REDIS_URL must be set: the processes share matchmaking through Redis}"
: "${DATABASE_URL:?DATABASE_URL must be set (PostgreSQL in production)}"
export DJANGO_DEBUG=0
"$python" manage.py check --deploy --fail-level WARNING
"$python" manage.py migrate --no-input
"$python" manage.py collectstatic --no-input -v0
pids=()
for ((i = 0; i < workers; i++)); do
  # --access-log /dev/null: the access log would hold visitors' addresses.
  "$python" -m daphne -b 127.0.0.1 -p $((first_port + i)) --access-log /dev/null \
    --ping-interval 15 --ping-timeout 20 --application-close-timeout 5 \
    alienmeet_site.asgi:application &
  pids+=($!)
done
trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait' TERM INT
wait

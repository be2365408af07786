#!/usr/bin/env bash
# The production command: N uvicorn processes on 127.0.0.1:FIRST_PORT.., sharing Redis and the database.
# uvicorn (uvloop, httptools, websockets' sans-I/O protocol) was chosen by `make bench` against daphne and
# granian (docs/benchmarks.md, "The production server"); alienmeet_site/serve.py holds its settings.
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
  # alienmeet_site/serve.py: no access log (it would hold visitors' addresses), pings every 15 s,
  # a socket that leaves one unanswered 20 s closed, an unanswered close given up after 1 s.
  "$python" -m alienmeet_site.serve --server uvicorn --port $((first_port + i)) \
    --ping-interval 15 --ping-timeout 20 &
  pids+=($!)
done
trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait' TERM INT
wait

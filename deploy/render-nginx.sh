#!/usr/bin/env bash
# Render deploy/nginx/alienmeet.conf for this machine.
# Usage: deploy/render-nginx.sh SERVER_NAME FIRST_PORT WORKERS STATIC_ROOT [LISTEN] > /etc/nginx/sites-enabled/alienmeet.conf
set -euo pipefail
server_name=$1 first_port=$2 workers=$3 static_root=${4%/}/ listen=${5:-"443 ssl"}
here=$(cd "$(dirname "$0")" && pwd)
upstreams=""
for ((i = 0; i < workers; i++)); do
  upstreams+="server 127.0.0.1:$((first_port + i)) max_fails=1 fail_timeout=5s; "
done
tls="ssl_certificate /etc/letsencrypt/live/$server_name/fullchain.pem; ssl_certificate_key /etc/letsencrypt/live/$server_name/privkey.pem;"
[[ $listen == *ssl* ]] || tls=""
sed -e "s|@LISTEN@|$listen|" -e "s|@SERVER_NAME@|$server_name|" -e "s|@UPSTREAM_SERVERS@|$upstreams|" \
    -e "s|@STATIC_ROOT@|$static_root|" -e "s|@TLS@|$tls|" "$here/nginx/alienmeet.conf"

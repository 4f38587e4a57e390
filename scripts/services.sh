#!/usr/bin/env bash
# Makes sure the services the tests talk to are up: MariaDB on 127.0.0.1:3306 and Redis on
# 127.0.0.1:6379. Both come with the machine; this starts whichever has stopped and waits until
# it answers, and fails loudly when one cannot be reached.
set -euo pipefail

wait_for() {
  local name=$1 check=$2 deadline=$((SECONDS + 60))
  until eval "$check" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      echo "services: $name did not come up within 60 s" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "services: $name is up"
}

if ! mariadb -h 127.0.0.1 -u root -e 'SELECT 1' >/dev/null 2>&1; then
  echo "services: starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
wait_for MariaDB "mariadb -h 127.0.0.1 -u root -e 'SELECT 1'"

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "services: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
wait_for Redis "redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG"

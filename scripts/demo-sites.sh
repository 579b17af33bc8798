#!/usr/bin/env bash
# make demo-sites: three lab sites (two of them with the same address range), one sensor each, one ingest
# worker, the machine's RabbitMQ (127.0.0.1:5672, guest) and PostgreSQL (127.0.0.1:5432, trust). Every audit
# runs inside its site's lab namespace; nothing leaves 127.0.0.1 or those namespaces. Everything is removed
# at the end, except the database, which is printed so `trueorigin serve --db ...` can open it.
set -euo pipefail
OUT=${1:-out-sites}
BIN="$(pwd)/.venv/bin"
TAG="demo$$"
VHOST="trueorigin-$TAG"
DBNAME="trueorigin_demo_sites"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ "$(id -u)" != 0 ]; then
  echo "make demo-sites needs root to create the lab's network namespaces (ip netns add)." >&2
  exit 2
fi
export TRUEORIGIN_BROKER="amqp://guest:guest@127.0.0.1:5672/$VHOST"
export TRUEORIGIN_DB="postgresql+psycopg://postgres@127.0.0.1:5432/$DBNAME"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 2
  for site in north south depot; do "$BIN/trueorigin" lab down --namespace "to-demo-$site" >/dev/null 2>&1 || true; done
  rabbitmqctl delete_vhost "$VHOST" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== 1. broker vhost $VHOST, database $DBNAME (recreated)"
rabbitmqctl add_vhost "$VHOST" >/dev/null
rabbitmqctl set_permissions -p "$VHOST" guest '.*' '.*' '.*' >/dev/null
psql -h 127.0.0.1 -U postgres -d postgres -q -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" -c "CREATE DATABASE $DBNAME"

echo "== 2. lab sites: north and south share 198.18.7.0/28, depot is 198.18.9.0/27"
"$BIN/trueorigin" lab up --hosts 12 --seed 7 --mix covered-heavy --cidr 198.18.7.0/28 --namespace to-demo-north \
  --manifest "$OUT/north.json" >/dev/null
"$BIN/trueorigin" lab up --hosts 12 --seed 11 --mix covered-heavy --cidr 198.18.7.0/28 --namespace to-demo-south \
  --manifest "$OUT/south.json" >/dev/null
"$BIN/trueorigin" lab up --hosts 20 --seed 5 --cidr 198.18.9.0/27 --namespace to-demo-depot \
  --manifest "$OUT/depot.json" >/dev/null

echo "== 3. sites, one ingest worker, one sensor per site (scanner inside the site's namespace)"
for site in north south depot; do "$BIN/trueorigin" sites add "$site" >/dev/null; done
setsid "$BIN/trueorigin" worker --name demo-ingest >"$OUT/worker.log" 2>&1 & PIDS+=($!)
for site in north south depot; do
  setsid "$BIN/trueorigin" sensor --site "$site" --name "sensor-$site" --lab-netns "to-demo-$site" \
    >"$OUT/sensor-$site.log" 2>&1 & PIDS+=($!)
done
sleep 6

echo "== 4. one audit per site, all at once"
AUDITS=()
for site in north south depot; do
  targets=$("$BIN/python" -c "import json,sys; print(' '.join(h['address'] for h in json.load(open(sys.argv[1]))['hosts']))" "$OUT/$site.json")
  # shellcheck disable=SC2086
  "$BIN/trueorigin" sites audit "$site" $targets --timeout 1 --wait 600 & AUDITS+=($!)
done
for pid in "${AUDITS[@]}"; do wait "$pid"; done

echo "== 5. results"
"$BIN/trueorigin" sites jobs
"$BIN/trueorigin" sites sensors
for site in north south depot; do "$BIN/trueorigin" findings list --site "$site" || true; done
echo
echo "Open the results: trueorigin serve --db $TRUEORIGIN_DB"

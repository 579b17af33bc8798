#!/usr/bin/env bash
# make demo: start a seeded lab site in its own network namespace, audit it from inside that namespace,
# write the compliance report, and stop the lab. Nothing leaves the namespace.
set -euo pipefail
OUT=${1:-out}
SEED=${2:-7}
HOSTS=${3:-60}
NS=${TRUEORIGIN_DEMO_NS:-trueorigin-demo}  # override to run two demos at once
BIN="$(pwd)/.venv/bin"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
DB="sqlite:///$OUT/demo.db"
rm -f "$OUT/demo.db"

if [ "$(id -u)" != 0 ]; then
  echo "make demo needs root to create the lab's network namespace (ip netns add)." >&2
  exit 2
fi
command -v ip >/dev/null || { echo "installing iproute2"; apt-get install -y -qq iproute2 >/dev/null; }

cleanup() { "$BIN/trueorigin" lab down --namespace "$NS" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup

echo "== 1. lab: $HOSTS simulated devices (seed $SEED) in namespace $NS"
"$BIN/trueorigin" lab up --hosts "$HOSTS" --seed "$SEED" --namespace "$NS" --manifest "$OUT/lab-manifest.json"
CIDR=$("$BIN/python" -c "import json,sys; print(json.load(open(sys.argv[1]))['cidr'])" "$OUT/lab-manifest.json")
# The lab's owner knows its logins, as a real site's owner does: hand them to the scan (never guessed).
"$BIN/python" - "$OUT/lab-manifest.json" "$OUT/lab-credentials.json" <<'PY'
import json, sys
hosts = json.load(open(sys.argv[1]))["hosts"]
entries = []
for h in hosts:
    entry = {"targets": [h["address"]]}
    if h.get("credentials"):
        entry.update(username=h["credentials"][0]["username"], password=h["credentials"][0]["password"])
    if h.get("snmp_community"):
        entry["snmp_community"] = h["snmp_community"]
    if len(entry) > 1:
        entries.append(entry)
json.dump({"credentials": entries}, open(sys.argv[2], "w"))
PY

echo "== 2. audit: trueorigin scan $CIDR (run inside the namespace)"
set +e
"$BIN/trueorigin" lab run --namespace "$NS" -- "$BIN/trueorigin" scan "$CIDR" --db "$DB" --site demo-lab \
  --credentials "$OUT/lab-credentials.json" --json > "$OUT/scan.jsonl"
status=$?
set -e
case "$status" in 0|1|3) ;; *) echo "scan failed with exit code $status" >&2; exit "$status" ;; esac
"$BIN/python" - "$OUT/scan.jsonl" "$OUT/lab-manifest.json" <<'PY'
import json, sys
found = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
truth = {h["address"]: h for h in json.load(open(sys.argv[2]))["hosts"]}
covered = [f for f in found if f["covered"] == "yes"]
right = [f for f in covered if truth.get(f["host"], {}).get("vendor") == f["vendor"]]
relabeled = [f for f in covered if f["brand"] and f["vendor"] and f["brand"] != f["vendor"]]
print(f"   {len(found)} devices answered, {len(covered)} covered ({len(right)} attributed as the lab's ground truth says),"
      f" {len(relabeled)} sold under another brand")
PY

echo "== 3. report"
"$BIN/trueorigin" report --db "$DB" --format html --out "$OUT/report.html"
"$BIN/trueorigin" report --db "$DB" --format pdf --out "$OUT/report.pdf" || echo "   (PDF skipped: WeasyPrint's system libraries are missing)"
"$BIN/trueorigin" report --db "$DB" --format json --out "$OUT/report.json"
# The exports compliance tools read: FAR 52.204-25(d) (PDF, CSV), OSCAL, NetBox, Snipe-IT (docs/reports.md).
"$BIN/trueorigin" report --db "$DB" --format far --out "$OUT/far.pdf" || echo "   (FAR PDF skipped: WeasyPrint's system libraries are missing)"
for fmt in far-csv oscal netbox snipeit; do
  case $fmt in oscal) ext=oscal.json ;; *) ext=$fmt.csv ;; esac
  "$BIN/trueorigin" report --db "$DB" --format "$fmt" --out "$OUT/$ext"
done
echo
echo "Report: $OUT/report.html"
echo
echo "Dashboard on the demo's store (sign in as the admin you create; the password is asked for, never an argument):"
echo "  $BIN/trueorigin users add admin --role admin --db $DB"
echo "  $BIN/trueorigin serve --db $DB --port 8080"
echo "  then open http://127.0.0.1:8080/  (REST API: http://127.0.0.1:8080/api/v1/openapi.json)"

#!/bin/sh
# Imports driftwood's Kibana saved objects (data view, visualisations, saved search, dashboard)
# through Kibana's saved-objects import API, replacing earlier copies, and fails unless Kibana
# reports success. docker-compose.yml runs it once as the kibana-setup service; by hand:
#   KIBANA_URL=http://127.0.0.1:5601 deploy/kibana/import.sh deploy/kibana/driftwood.ndjson
set -eu
KIBANA_URL="${KIBANA_URL:-http://127.0.0.1:5601}"
FILE="${1:-$(dirname "$0")/driftwood.ndjson}"

# Kibana may report itself available a moment before its saved-objects API answers: retry.
answer=$(curl -sS --retry 30 --retry-delay 5 --retry-all-errors \
  -X POST "$KIBANA_URL/api/saved_objects/_import?overwrite=true" \
  -H "kbn-xsrf: true" --form "file=@$FILE")
echo "$answer"
case "$answer" in
  *'"success":true'*) echo "kibana-setup: imported $FILE into $KIBANA_URL" ;;
  *) echo "kibana-setup: the import of $FILE failed (answer above)" >&2; exit 1 ;;
esac

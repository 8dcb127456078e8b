#!/usr/bin/env bash
# Builds an ASN database for Lookout's location check (geo.asn_db) from the npm package
# @ip-location-db/asn (IP-to-ASN ranges from DB-IP's "IP to ASN Lite" and Route Views, both
# CC BY 4.0: attribution to db-ip.com and routeviews.org), with MaxMind's writer
# (Debian: apt-get install libmaxmind-db-writer-perl).
#
#   scripts/build-asn-db.sh [OUT.mmdb] [VERSION]   default: data/asn.mmdb, the latest version
#
# Fetches the package with the npm client (about 19 MB), converts the IPv4 and IPv6 CSVs
# (a minute or two, ~150 MB of memory) and prints the result. Point geo.asn_db at OUT.mmdb.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-data/asn.mmdb}
version=${2:-latest}
perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null || { echo "needs MaxMind's writer: apt-get install libmaxmind-db-writer-perl" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@ip-location-db/asn@$version" >/dev/null && tar xzf ./*.tgz)
mkdir -p "$(dirname "$out")"
built=$(node -p 'require(process.argv[1]).version' "$work/package/package.json")
perl scripts/mmdb-build.pl --type Lookout-ASN --description "@ip-location-db/asn $built (DB-IP, Route Views; CC BY 4.0)" \
  --out "$out" "$work/package/asn-ipv4.csv" "$work/package/asn-ipv6.csv"
echo "geo.asn_db: $out (from @ip-location-db/asn $built)"

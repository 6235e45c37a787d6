#!/usr/bin/env bash
# Import + unpack benchmark: Berth (in-process, overlayfs) vs `ctr images import` into a private
# containerd 1.6, on a 2-layer Debian image (layer 1 = debootstrap minbase bookworm, layer 2 adds and
# deletes files) as a docker-save tar and as an OCI layout tar. Needs root, debootstrap, containerd.
# Usage: bench/import.sh [pairs]        (default 5 pairs after one warm-up round each)
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${1:-5}
CACHE=${BERTH_BENCH_CACHE:-/var/cache/berth-bench}
mkdir -p "$CACHE"

if [ ! -d "$CACHE/rootfs" ]; then
  echo "bench: debootstrap minbase bookworm into $CACHE/rootfs" >&2
  rm -rf "$CACHE/rootfs.tmp"
  debootstrap --variant=minbase bookworm "$CACHE/rootfs.tmp" http://deb.debian.org/debian >&2
  mv "$CACHE/rootfs.tmp" "$CACHE/rootfs"
fi

if [ -z "${BERTH_BENCH_SKIP_BUILD:-}" ]; then
  mvn -o -q -B -pl images -am install -DskipTests >&2
fi
CP_FILE=$(mktemp)
trap 'rm -f "$CP_FILE"' EXIT
mvn -o -q -B -pl images dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$CP_FILE" >&2
CP="images/target/test-classes:images/target/classes:$(cat "$CP_FILE")"

if [ ! -f "$CACHE/debian-oci.tar" ] || [ ! -f "$CACHE/debian-docker.tar" ]; then
  echo "bench: building the fixture archives" >&2
  java -cp "$CP" dev.berth.image.bench.BuildBenchFixture "$CACHE/rootfs" "$CACHE"
fi

java -Xmx2g -cp "$CP" dev.berth.image.bench.ImportBench "$PAIRS" "$CACHE/debian-docker.tar" "$CACHE/debian-oci.tar"

#!/usr/bin/env bash
# Pull + unpack benchmark: Berth (in-process RegistryClient + overlayfs) vs `ctr images pull --plain-http`
# into a fresh namespace of a private containerd 1.6, both from a private docker-registry on 127.0.0.1
# holding the 2-layer Debian image (layer 1 = debootstrap minbase bookworm, layer 2 adds and deletes
# files). Needs root, debootstrap, containerd, docker-registry (scripts/install-deps).
# Usage: bench/pull.sh [pairs]        (default 5 pairs after one warm-up round each)
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
  mvn -o -q -B -pl registry -am install -DskipTests >&2
  mvn -o -q -B -pl registry test-compile >&2
fi
CP_FILE=$(mktemp)
trap 'rm -f "$CP_FILE"' EXIT

if [ ! -f "$CACHE/debian-oci.tar" ]; then
  echo "bench: building the fixture archives" >&2
  mvn -o -q -B -pl images dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$CP_FILE" >&2
  java -cp "images/target/test-classes:images/target/classes:$(cat "$CP_FILE")" \
      dev.berth.image.bench.BuildBenchFixture "$CACHE/rootfs" "$CACHE"
fi

mvn -o -q -B -pl core dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$CP_FILE" >&2
CP="core/target/test-classes:core/target/classes:$(cat "$CP_FILE")"
java -Xmx2g ${BENCH_JAVA_OPTS:-} -cp "$CP" dev.berth.bench.PullBench "$PAIRS" "$CACHE/debian-oci.tar"

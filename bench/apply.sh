#!/usr/bin/env bash
# Layer-apply benchmark (issue 5): Berth's LayerApplier against GNU tar on a realistic layer, a
# debootstrap --variant=minbase bookworm root file system, in alternating rounds of one JVM run:
#   Berth naive (empty dir) and overlay (empty upperdir) vs `tar -xf` of the same uncompressed tar,
#   Berth on the gzip layer vs `gzip -dc | tar -x`.
# Not a test. Usage: bench/apply.sh [rounds]   (env: BERTH_BENCH_DIR fixture dir, BENCH_TMPFS=1 to
# extract into a tmpfs so disk writeback noise does not dominate, MVN_FLAGS default "-o")
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FIX=${BERTH_BENCH_DIR:-/var/tmp/berth-bench}
ROUNDS=${1:-5}
MVN_FLAGS=${MVN_FLAGS:--o}
mkdir -p "$FIX"

if [ ! -s "$FIX/layer.tar" ] || [ ! -s "$FIX/layer.tar.gz" ]; then
  if [ ! -d "$FIX/rootfs/usr" ]; then
    if ! command -v debootstrap >/dev/null; then
      apt-get update -q && apt-get install -y -q debootstrap
    fi
    rm -rf "$FIX/rootfs"
    if debootstrap --variant=minbase bookworm "$FIX/rootfs" http://deb.debian.org/debian > "$FIX/debootstrap.log" 2>&1; then
      rm -f "$FIX"/rootfs/var/cache/apt/archives/*.deb   # an image layer does not ship the download cache
      echo "fixture: debootstrap minbase bookworm" > "$FIX/SOURCE"
    else
      echo "debootstrap failed (see $FIX/debootstrap.log); FALLING BACK to a copy of /usr as the layer" >&2
      rm -rf "$FIX/rootfs" && mkdir -p "$FIX/rootfs" && cp -a /usr "$FIX/rootfs/usr"
      echo "fixture: copy of /usr (debootstrap failed)" > "$FIX/SOURCE"
    fi
  fi
  tar --numeric-owner --xattrs --xattrs-include='*' -C "$FIX/rootfs" -cf "$FIX/layer.tar" .
  gzip -c "$FIX/layer.tar" > "$FIX/layer.tar.gz"
fi
cat "$FIX/SOURCE" 2>/dev/null || true

cd "$ROOT"
mvn $MVN_FLAGS -q -B -pl snapshotter test-compile
mvn $MVN_FLAGS -q -B -pl snapshotter dependency:build-classpath -Dmdep.outputFile="$FIX/classpath.txt" >/dev/null
CP="$ROOT/snapshotter/target/test-classes:$ROOT/snapshotter/target/classes:$(cat "$FIX/classpath.txt")"

WORK="$FIX/work"
if [ "${BENCH_TMPFS:-0}" = 1 ]; then
  WORK="$FIX/tmpfs"
  mkdir -p "$WORK"
  mount -t tmpfs -o size=4g berth-bench "$WORK"
  trap 'umount "$WORK"' EXIT
fi
mkdir -p "$WORK"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; extracting into $WORK"
java -cp "$CP" dev.berth.snapshot.archive.bench.ApplyBench "$FIX/layer.tar" "$FIX/layer.tar.gz" "$ROUNDS" "$WORK/run"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# Benchmark: busybox `echo hi` end to end through containerd-shim-runc-v2 + runc from one JVM (Berth),
# next to `ctr run --rm --rootfs` of the same rootfs in a private containerd 1.6 (skip with NO_CTR=1).
# Usage: bench/run-echo.sh [iterations=30] [concurrent=20]. Needs root; builds runtime-v2 first.
set -euo pipefail
cd "$(dirname "$0")/.."
ITER=${1:-30}
CONC=${2:-20}

mvn -o -q -B -pl runtime-v2 test-compile
CP_FILE=$(mktemp)
WORK=$(mktemp -d /tmp/berth-bench.XXXXXX)
cleanup() {
  if [ -n "${CTRD_PID:-}" ]; then kill "$CTRD_PID" 2>/dev/null || true; wait "$CTRD_PID" 2>/dev/null || true; fi
  rm -rf "$WORK" "$CP_FILE"
}
trap cleanup EXIT
mvn -o -q -B -pl runtime-v2 dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$CP_FILE" >/dev/null
CP="runtime-v2/target/test-classes:runtime-v2/target/classes:$(cat "$CP_FILE")"

# One busybox rootfs for both sides.
ROOTFS="$WORK/rootfs"
mkdir -p "$ROOTFS/bin" "$ROOTFS/proc" "$ROOTFS/sys" "$ROOTFS/dev" "$ROOTFS/tmp" "$ROOTFS/etc"
cp /bin/busybox "$ROOTFS/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$ROOTFS/bin/$a"; done

echo "== Berth (one JVM) =="
java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" dev.berth.runtime.bench.RunEchoBench "$ITER" "$CONC" "$ROOTFS"

if [ "${NO_CTR:-0}" = 1 ]; then exit 0; fi
echo "== containerd 1.6 (private instance, ctr run --rm --rootfs) =="
mkdir -p "$WORK/ctrd"
cat > "$WORK/ctrd/config.toml" <<TOML
version = 2
root = "$WORK/ctrd/root"
state = "$WORK/ctrd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$WORK/ctrd/containerd.sock"
[ttrpc]
  address = "$WORK/ctrd/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
TOML
containerd --config "$WORK/ctrd/config.toml" >"$WORK/ctrd/log" 2>&1 &
CTRD_PID=$!
for _ in $(seq 100); do [ -S "$WORK/ctrd/containerd.sock" ] && break; sleep 0.1; done
CTR=(ctr -a "$WORK/ctrd/containerd.sock" -n bench)
for i in 1 2 3; do "${CTR[@]}" run --rm --rootfs "$ROOTFS" "warm-$i" /bin/echo hi >/dev/null; done
TIMES=()
for i in $(seq "$ITER"); do
  t0=$(date +%s%N)
  out=$("${CTR[@]}" run --rm --rootfs "$ROOTFS" "seq-$i" /bin/echo hi)
  t1=$(date +%s%N)
  [ "$out" = hi ] || { echo "ctr run printed '$out'" >&2; exit 1; }
  TIMES+=($(( (t1 - t0) / 1000 )))
done
printf '%s\n' "${TIMES[@]}" | sort -n | awk -v n="$ITER" '{a[NR]=$1} END {m = (n % 2) ? a[(n+1)/2] : (a[n/2]+a[n/2+1])/2;
  printf "ctr sequential echo x%d: median %.1f ms, min %.1f ms, max %.1f ms\n", n, m/1000, a[1]/1000, a[n]/1000}'
t0=$(date +%s%N)
for i in $(seq "$CONC"); do "${CTR[@]}" run --rm --rootfs "$ROOTFS" "conc-$i" /bin/echo hi >/dev/null & done
wait $(jobs -p | grep -v "^$CTRD_PID$") 2>/dev/null || true
t1=$(date +%s%N)
printf 'ctr %d concurrent echo: wall %.1f ms\n' "$CONC" "$(( (t1 - t0) / 1000 ))e-3"

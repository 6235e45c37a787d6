#!/usr/bin/env bash
# Ingest throughput of the content store against the floor (openssl dgst + cp + fsync of the copy) on a 1 GiB file.
# Usage: bench/content-ingest.sh [sizeMiB=1024] [rounds=3] [workDir=/var/tmp] [cold|warm]
# Needs root to drop the page cache between measurements (otherwise it says so and measures warm reads).
set -euo pipefail
cd "$(dirname "$0")/.."
offline=${BERTH_MVN_OFFLINE:--o}
mvn $offline -q -B -pl core-api install -DskipTests
mvn $offline -q -B -pl content-store test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
cp_file=content-store/target/bench.classpath
exec java -Xmx512m -cp "content-store/target/test-classes:content-store/target/classes:$(cat "$cp_file")" \
    dev.berth.content.bench.IngestBench "$@"

package dev.berth;

import java.time.Duration;

/**
 * What one garbage collection removed. Record counts are metadata records across all namespaces; the
 * {@code blobs}, {@code backendSnapshots} and {@code abortedIngests} counts are what was reclaimed on
 * disk once no namespace referenced it any more.
 */
public record GcResult(int leases, int contentRecords, int snapshotRecords, int ingestRecords, int blobs,
                       int backendSnapshots, int abortedIngests, Duration duration) {

    /** Whether anything at all was removed. */
    public boolean removedAnything() {
        return leases + contentRecords + snapshotRecords + ingestRecords + blobs + backendSnapshots
                + abortedIngests > 0;
    }
}

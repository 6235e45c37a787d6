package dev.berth.snapshot.archive;

import dev.berth.snapshot.archive.ApplyHarness.Mode;

/** The conformance suite applied naively (the native snapshotter's way). */
class NaiveConformanceTest extends HostileLayerSuite {
    @Override
    Mode mode() {
        return Mode.NAIVE;
    }
}

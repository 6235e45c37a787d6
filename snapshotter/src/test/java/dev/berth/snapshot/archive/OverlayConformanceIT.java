package dev.berth.snapshot.archive;

import dev.berth.snapshot.archive.ApplyHarness.Mode;

/**
 * The conformance suite applied into overlay upper directories; the merged view is checked through a
 * real overlay mount and must equal the naive result.
 */
class OverlayConformanceIT extends HostileLayerSuite {
    @Override
    Mode mode() {
        return Mode.OVERLAY;
    }
}

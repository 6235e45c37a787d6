package dev.berth.snapshot.archive;

import dev.berth.testing.fuzz.Fuzz;
import java.io.ByteArrayInputStream;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzz target: the tar reader and the applier, on mutations of the seeds in {@code fuzz/layer-tar} (plain,
 * GNU, PAX, sparse, whiteout, device and escaping tars, one gzipped). An input is applied or refused with a
 * {@link dev.berth.api.BerthException}, in bounded time, and nothing outside the target changes.
 */
class LayerApplierFuzzTest {
    private static final LayerApplier APPLIER = LayerApplier.builder()
            .deviceNodes(LayerApplier.DeviceNodes.CREATE)
            .maxUncompressedSize(256L << 20) // a fuzzed size field must not fill the disk
            .build();

    @Provide
    Arbitrary<byte[]> layers() {
        return Fuzz.mutated(Fuzz.corpus("layer-tar"));
    }

    @Property(shrinking = net.jqwik.api.ShrinkingMode.BOUNDED)
    void appliesOrRefusesWithoutTouchingAnythingOutside(@ForAll("layers") byte[] layer, @ForAll boolean overlay) {
        try (ApplyHarness h = new ApplyHarness(overlay ? ApplyHarness.Mode.OVERLAY : ApplyHarness.Mode.NAIVE, APPLIER)) {
            Fuzz.check("layer applier", layer, () -> {
                if (overlay) {
                    try {
                        h.apply(layer);
                    } catch (java.io.UncheckedIOException e) {
                        throw e.getCause();
                    }
                } else {
                    APPLIER.apply(new ByteArrayInputStream(layer), ApplyTarget.naive(h.written()));
                }
            });
            h.assertOutsideUntouched();
        }
    }
}

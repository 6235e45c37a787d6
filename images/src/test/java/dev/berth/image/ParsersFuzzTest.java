package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.filter.Filter;
import dev.berth.api.image.ImageReference;
import dev.berth.testing.fuzz.Fuzz;
import java.nio.charset.StandardCharsets;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzz targets: the image reference parser and the containerd filter parser, on mutations of the seeds in
 * {@code fuzz/reference} and {@code fuzz/filter}. A string is parsed or refused with a
 * {@link dev.berth.api.BerthException}, in bounded time.
 */
class ParsersFuzzTest {
    @Provide
    Arbitrary<String> references() {
        return Fuzz.mutatedStrings(Fuzz.corpusLines("reference"));
    }

    @Provide
    Arbitrary<String> filters() {
        return Fuzz.mutatedStrings(Fuzz.corpusLines("filter"));
    }

    @Property
    void referenceParsesOrIsRefused(@ForAll("references") String reference) {
        Fuzz.check("image reference", reference.getBytes(StandardCharsets.UTF_8), () -> {
            ImageReference ref = ImageReference.parse(reference);
            // what parsed must print as something that parses to the same reference
            assertThat(ImageReference.parse(ref.toString())).isEqualTo(ref);
        });
    }

    @Property
    void filterParsesOrIsRefused(@ForAll("filters") String filter) {
        Fuzz.check("filter", filter.getBytes(StandardCharsets.UTF_8), () -> Filter.parse(filter));
    }
}

package dev.berth.junit.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SharedBerthPreloadTest {
    @Test
    void everyClassThePreloadNamesExistsAndInitializes() {
        // a class renamed or moved would silently drop out of the head start: the preload reports it instead
        assertThat(SharedBerth.preload()).isEmpty();
    }
}

package dev.berth.events;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.ClosedException;
import dev.berth.api.FailedPreconditionException;
import org.junit.jupiter.api.Test;

/**
 * BerthException's contract in the event exchange: a closed exchange refuses subscriptions with
 * {@link ClosedException}. The exchange does no file or network I/O, so it has no I/O failure to surface.
 */
class ErrorContractTest {

    @Test
    void closedExchangeThrowsClosedExceptionNamingIt() {
        EventExchange events = EventExchange.create();
        events.close();
        events.close();

        assertThatThrownBy(() -> events.subscribe(e -> { }))
                .isInstanceOf(ClosedException.class).isInstanceOf(FailedPreconditionException.class)
                .hasMessage("event exchange is closed");
    }
}

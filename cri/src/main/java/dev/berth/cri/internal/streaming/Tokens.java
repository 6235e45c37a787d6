package dev.berth.cri.internal.streaming;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** One-time tokens that stand for a {@link StreamRequest} until used or expired. Thread-safe. */
final class Tokens {
    /** Bounds the map even when nobody comes back for the URLs. */
    static final int MAX_PENDING = 10_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private record Entry(StreamRequest request, Instant expires) {
    }

    private final Map<String, Entry> pending = new ConcurrentHashMap<>();
    private final Duration ttl;
    private final Clock clock;

    Tokens(Duration ttl, Clock clock) {
        this.ttl = ttl;
        this.clock = clock;
    }

    String issue(StreamRequest request) {
        Instant now = clock.instant();
        if (pending.size() >= MAX_PENDING) {
            pending.values().removeIf(e -> !e.expires.isAfter(now));
            if (pending.size() >= MAX_PENDING) {
                throw new dev.berth.api.UnavailableException("more than " + MAX_PENDING
                        + " unused streaming URLs are pending");
            }
        }
        byte[] b = new byte[18];
        RANDOM.nextBytes(b);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
        pending.put(token, new Entry(request, now.plus(ttl)));
        return token;
    }

    /** The request of an unused, unexpired token, which is then gone. */
    Optional<StreamRequest> redeem(String token) {
        Entry e = pending.remove(token);
        if (e == null || !e.expires.isAfter(clock.instant())) {
            return Optional.empty();
        }
        return Optional.of(e.request);
    }
}

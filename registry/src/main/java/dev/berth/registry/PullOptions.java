package dev.berth.registry;

import dev.berth.api.PlatformMatcher;
import dev.berth.api.content.ContentStore;
import java.util.Objects;

/**
 * How to pull: which platforms of a multi-platform image, whether to unpack, and who listens.
 * Build with {@link #builder()}; {@link #defaults()} pulls the host's best platform without unpacking.
 *
 * @param platforms which index entries qualify (default: the host platform and what it can run)
 * @param allMatching fetch every qualifying entry rather than only the best one (containerd's
 *        "all platforms" when used with {@link PlatformMatcher#all()})
 * @param unpacker called for each fetched platform manifest once its blobs are stored; null = no unpack
 * @param progress listener for this pull; null = the client's listener
 * @param contentStore where this pull stores blobs; null = the client's store
 */
public record PullOptions(PlatformMatcher platforms, boolean allMatching, PullUnpacker unpacker,
                          ProgressListener progress, ContentStore contentStore) {
    public PullOptions {
        Objects.requireNonNull(platforms, "platforms");
    }

    public static PullOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder of {@link PullOptions}. Not thread-safe. */
    public static final class Builder {
        private PlatformMatcher platforms = PlatformMatcher.host();
        private boolean allMatching;
        private PullUnpacker unpacker;
        private ProgressListener progress;
        private ContentStore contentStore;

        private Builder() {
        }

        public Builder platforms(PlatformMatcher matcher) {
            this.platforms = Objects.requireNonNull(matcher, "platforms");
            return this;
        }

        /** Every platform the index offers. */
        public Builder allPlatforms() {
            this.platforms = PlatformMatcher.all();
            this.allMatching = true;
            return this;
        }

        public Builder allMatching(boolean all) {
            this.allMatching = all;
            return this;
        }

        public Builder unpacker(PullUnpacker newUnpacker) {
            this.unpacker = newUnpacker;
            return this;
        }

        public Builder progress(ProgressListener listener) {
            this.progress = listener;
            return this;
        }

        /**
         * Stores this pull's blobs in {@code store} instead of the client's, so one client (its connections,
         * tokens and threads) can serve several stores, e.g. one per namespace or lease.
         */
        public Builder contentStore(ContentStore store) {
            this.contentStore = Objects.requireNonNull(store, "contentStore");
            return this;
        }

        public PullOptions build() {
            return new PullOptions(platforms, allMatching, unpacker, progress, contentStore);
        }
    }
}

package dev.berth.registry;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.PlatformMatcher;
import dev.berth.api.content.ContentStore;
import java.util.Objects;

/**
 * How to push. Build with {@link #builder()}.
 *
 * @param platforms which entries of an index to push (default: all); the index itself is pushed as is,
 *        so a registry may then hold an index whose other entries it lacks, as containerd allows
 * @param chunkSize 0 (default) uploads each blob in one {@code PUT}; otherwise in {@code PATCH} chunks
 *        of this many bytes, then a closing {@code PUT}
 * @param progress listener for this push; null = the client's listener
 * @param contentStore where the image is read from; null = the client's store
 */
public record PushOptions(PlatformMatcher platforms, long chunkSize, ProgressListener progress,
                          ContentStore contentStore) {
    public PushOptions {
        Objects.requireNonNull(platforms, "platforms");
        if (chunkSize < 0) {
            throw new InvalidArgumentException("push chunkSize must be >= 0, got " + chunkSize);
        }
    }

    public static PushOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder of {@link PushOptions}. Not thread-safe. */
    public static final class Builder {
        private PlatformMatcher platforms = PlatformMatcher.all();
        private long chunkSize;
        private ProgressListener progress;
        private ContentStore contentStore;

        private Builder() {
        }

        public Builder platforms(PlatformMatcher matcher) {
            this.platforms = Objects.requireNonNull(matcher, "platforms");
            return this;
        }

        public Builder chunkSize(long bytes) {
            if (bytes < 0) {
                throw new InvalidArgumentException("push chunkSize must be >= 0, got " + bytes);
            }
            this.chunkSize = bytes;
            return this;
        }

        public Builder progress(ProgressListener listener) {
            this.progress = listener;
            return this;
        }

        /** Reads the image from {@code store} instead of the client's store. */
        public Builder contentStore(ContentStore store) {
            this.contentStore = Objects.requireNonNull(store, "contentStore");
            return this;
        }

        public PushOptions build() {
            return new PushOptions(platforms, chunkSize, progress, contentStore);
        }
    }
}

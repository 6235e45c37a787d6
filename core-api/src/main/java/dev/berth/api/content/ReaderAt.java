package dev.berth.api.content;

import java.io.InputStream;
import java.nio.ByteBuffer;

/** Random-access reads of a committed blob. Thread-safe for positional reads. */
public interface ReaderAt extends AutoCloseable {

    /** Reads into {@code dst} from {@code position}; returns bytes read or -1 at end. */
    int read(ByteBuffer dst, long position);

    /** The blob's size in bytes. */
    long size();

    /** A sequential stream from {@code position}; closing it does not close this reader. */
    InputStream inputStream(long position);

    default InputStream inputStream() {
        return inputStream(0);
    }

    @Override
    void close();
}

package dev.berth.registry.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.util.Optional;
import java.util.OptionalLong;

/** A registry response whose body is still a stream. Close it (or read it fully) to free the connection. */
final class Exchange implements AutoCloseable {
    private final int status;
    private final HttpHeaders headers;
    private final InputStream body;
    private final URI uri;

    Exchange(int status, HttpHeaders headers, InputStream body, URI uri) {
        this.status = status;
        this.headers = headers;
        this.body = body;
        this.uri = uri;
    }

    int status() {
        return status;
    }

    HttpHeaders headers() {
        return headers;
    }

    Optional<String> header(String name) {
        return headers.firstValue(name);
    }

    OptionalLong contentLength() {
        return headers.firstValueAsLong("Content-Length");
    }

    InputStream body() {
        return body;
    }

    /** The URI that produced this response (after redirects). */
    URI uri() {
        return uri;
    }

    /**
     * Reads the whole body, failing with an IOException if it is longer than {@code cap} bytes.
     */
    byte[] readAll(long cap) throws IOException {
        try (InputStream in = body) {
            byte[] bytes = in.readNBytes((int) Math.min(cap + 1, Integer.MAX_VALUE - 8));
            if (bytes.length > cap) {
                throw new IOException("response from " + uri + " is larger than " + cap + " bytes");
            }
            return bytes;
        }
    }

    /** Up to 64 KiB of the body, for error messages; never throws. */
    byte[] readErrorBody() {
        try (InputStream in = body) {
            return in.readNBytes(64 << 10);
        } catch (IOException e) {
            return new byte[0];
        }
    }

    @Override
    public void close() {
        try {
            body.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}

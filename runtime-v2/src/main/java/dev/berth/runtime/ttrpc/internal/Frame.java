package dev.berth.runtime.ttrpc.internal;

/**
 * One ttrpc frame: a 10-byte big-endian header (payload length, stream id, message type, flags) and the
 * payload bytes.
 */
public record Frame(int streamId, byte type, byte flags, byte[] payload) {
    public static final int HEADER_LENGTH = 10;
    /** ttrpc's default limit on a frame's payload: 4 MiB. */
    public static final int MAX_PAYLOAD = 4 << 20;

    public static final byte TYPE_REQUEST = 1;
    public static final byte TYPE_RESPONSE = 2;
    public static final byte TYPE_DATA = 3;

    public Frame {
        if (payload == null) {
            payload = new byte[0];
        }
    }
}

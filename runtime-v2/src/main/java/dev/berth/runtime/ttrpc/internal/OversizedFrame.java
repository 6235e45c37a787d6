package dev.berth.runtime.ttrpc.internal;

/** A frame whose announced length exceeded {@link Frame#MAX_PAYLOAD}: its payload was discarded. */
record OversizedFrame(int streamId, byte type, long length) {
    String message() {
        return "message length " + length + " exceed maximum message size of " + Frame.MAX_PAYLOAD;
    }
}

package dev.berth.registry;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records progress events as {@code "<event> <digest>"} lines. */
final class RecordingListener implements ProgressListener {
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<Long> progressOfBig = new CopyOnWriteArrayList<>();
    private final Digest watched;

    RecordingListener(Digest watched) {
        this.watched = watched;
    }

    RecordingListener() {
        this(null);
    }

    @Override
    public void resolved(String reference, Descriptor target) {
        events.add("resolved " + target.digest());
    }

    @Override
    public void blobStarted(Descriptor blob, long resumedAt) {
        events.add("started " + blob.digest() + " " + resumedAt);
    }

    @Override
    public void blobProgress(Descriptor blob, long bytesDone) {
        if (blob.digest().equals(watched)) {
            progressOfBig.add(bytesDone);
        }
    }

    @Override
    public void blobDone(Descriptor blob) {
        events.add("done " + blob.digest());
    }

    @Override
    public void blobVerified(Descriptor blob) {
        events.add("verified " + blob.digest());
    }

    @Override
    public void blobSkipped(Descriptor blob) {
        events.add("skipped " + blob.digest());
    }

    @Override
    public void layerUnpacked(Descriptor layer) {
        events.add("unpacked " + layer.digest());
    }

    @Override
    public void done(String reference, Descriptor target) {
        events.add("finished " + target.digest());
    }

    List<String> startsOf(Digest digest) {
        return events.stream().filter(e -> e.startsWith("started " + digest)).toList();
    }
}

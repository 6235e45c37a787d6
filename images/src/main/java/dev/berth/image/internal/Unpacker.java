package dev.berth.image.internal;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.BerthException;
import dev.berth.api.CanceledException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Labels;
import dev.berth.api.MediaTypes;
import dev.berth.api.Mount;
import dev.berth.api.NotFoundException;
import dev.berth.api.NotImplementedException;
import dev.berth.api.content.ContentStore;
import dev.berth.api.image.LayerGate;
import dev.berth.api.snapshot.Kind;
import dev.berth.api.snapshot.SnapshotInfo;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.image.BlobMismatchException;
import dev.berth.image.DiffIdMismatchException;
import dev.berth.image.ResolvedImage;
import dev.berth.image.UnpackResult;
import dev.berth.snapshot.archive.ApplyResult;
import dev.berth.snapshot.archive.LayerApplier;
import dev.berth.snapshot.archive.LayerLimitExceededException;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Unpacks a resolved image into a snapshotter as containerd's unpacker does: layer {@code i} is
 * extracted into the active snapshot {@code "extract-<unique> <chainID>"} prepared on the previous
 * layer's chainID, its diffID is checked against the config, and it is committed as its chainID. Layers
 * whose chainID exists are skipped. A per-chainID lock ({@link ChainLocks}) makes concurrent unpacks of
 * the same layers do the work once; if another process without the shared lock directory commits the
 * chainID first, the snapshotter's {@link AlreadyExistsException} on commit is taken as "done by someone
 * else" and the extra work is discarded. Any failure removes the active snapshot.
 *
 * <p>Blobs are read, verified and decompressed on the executor ({@link LayerPipe}) while this thread
 * writes files; the next layer's pipe is started while the current one is applied.
 */
public final class Unpacker {
    private static final Logger LOG = LoggerFactory.getLogger(Unpacker.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ContentStore store;
    private final Executor executor;
    private final ChainLocks locks;
    private final LayerApplier applier;

    public Unpacker(ContentStore store, Executor executor, ChainLocks locks, LayerApplier applier) {
        this.store = Objects.requireNonNull(store, "store");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.locks = Objects.requireNonNull(locks, "locks");
        this.applier = Objects.requireNonNull(applier, "applier");
    }

    public UnpackResult unpack(ResolvedImage image, Snapshotter snapshotter, LayerGate gate) {
        String label = image.name() != null ? image.name() : image.target().digest().toString();
        List<Descriptor> layers = image.layers();
        List<Digest> diffIds = image.diffIds();
        List<Digest> chain = image.chainIds();
        for (int i = 0; i < layers.size(); i++) {
            Descriptor layer = layers.get(i);
            try {
                MediaTypes.layerCompression(layer.mediaType());
            } catch (NotImplementedException e) {
                throw new NotImplementedException("image " + label + ": layer " + i + " (" + layer.digest()
                        + ") has unsupported media type \"" + layer.mediaType() + "\"", e);
            }
        }
        for (int i = 0; i < layers.size(); i++) {
            Descriptor layer = layers.get(i);
            if (MediaTypes.isNonDistributable(layer.mediaType()) && !committed(snapshotter, chain.get(i).toString())) {
                try {
                    await(gate, layer, "layer " + i + " of " + label);
                    store.info(layer.digest());
                } catch (NotFoundException e) {
                    throw new NotFoundException("image " + label + ": layer " + i + " (" + layer.digest()
                            + ") is a non-distributable layer that is not in the content store"
                            + (layer.urls().isEmpty() ? "" : "; it is published at " + String.join(", ", layer.urls()))
                            + "; add the blob to the content store to unpack this image", e);
                }
            }
        }
        int applied = 0;
        int skipped = 0;
        LayerPipe prefetched = null;
        try {
            for (int i = 0; i < layers.size(); i++) {
                Descriptor layer = layers.get(i);
                String chainId = chain.get(i).toString();
                String parent = i == 0 ? null : chain.get(i - 1).toString();
                String what = "layer " + i + " of " + label;
                LayerPipe pipe = prefetched;
                prefetched = null;
                try (ChainLocks.Handle lock = locks.lock(snapshotter.name(), chainId)) {
                    if (committed(snapshotter, chainId)) {
                        if (pipe != null) {
                            pipe.close();
                        }
                        skipped++;
                    } else {
                        if (pipe == null) {
                            pipe = LayerPipe.start(store, layer, what, gate, executor, applier);
                        }
                        if (i + 1 < layers.size() && !committed(snapshotter, chain.get(i + 1).toString())) {
                            prefetched = LayerPipe.start(store, layers.get(i + 1), "layer " + (i + 1) + " of " + label,
                                    gate, executor, applier);
                        }
                        if (extractOrRetry(snapshotter, layer, diffIds.get(i), chainId, parent, pipe, what, gate)) {
                            applied++;
                        } else {
                            skipped++;
                        }
                    }
                }
                ContentLabels.add(store, layer.digest(), Map.of(Labels.UNCOMPRESSED, diffIds.get(i).toString()));
            }
        } finally {
            if (prefetched != null) {
                prefetched.close();
            }
        }
        if (!chain.isEmpty()) {
            ContentLabels.add(store, image.manifest().config().digest(),
                    Map.of(Labels.GC_REF_SNAPSHOT + snapshotter.name(), chain.get(chain.size() - 1).toString()));
        }
        return new UnpackResult(snapshotter.name(), chain, applied, skipped);
    }

    static void await(LayerGate gate, Descriptor layer, String what) {
        try {
            gate.await(layer);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CanceledException("interrupted while waiting for the blob of " + what, e);
        }
    }

    private static boolean committed(Snapshotter snapshotter, String chainId) {
        try {
            SnapshotInfo info = snapshotter.stat(chainId);
            if (info.kind() != Kind.COMMITTED) {
                throw new InvalidArgumentException("snapshot " + chainId + " exists but is " + info.kind().displayName()
                        + ", not a committed layer");
            }
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    /**
     * {@link #extract}; if the layer was applied while its blob downloaded ({@link LayerPipe#live()}) and
     * that failed, the download's own failure is the one reported (a blob that does not match its digest);
     * a blob that did arrive is applied again from the content store, as without streaming, so that a
     * download that started over, or a genuine apply failure, ends as it would have.
     */
    private boolean extractOrRetry(Snapshotter snapshotter, Descriptor layer, Digest diffId, String chainId,
                                   String parent, LayerPipe pipe, String what, LayerGate gate) {
        try {
            return extract(snapshotter, layer, diffId, chainId, parent, pipe, what);
        } catch (RuntimeException e) {
            if (!pipe.live()) {
                throw e;
            }
            try {
                await(gate, layer, what);
            } catch (RuntimeException download) {
                download.addSuppressed(e);
                throw download;
            }
            LOG.debug("{} failed while its blob downloaded ({}); applying it again from the content store", what,
                    e.toString());
            return extract(snapshotter, layer, diffId, chainId, parent,
                    LayerPipe.start(store, layer, what, gate, false, executor, applier), what);
        }
    }

    /** @return true if this call committed the layer, false if another process did meanwhile */
    private boolean extract(Snapshotter snapshotter, Descriptor layer, Digest diffId, String chainId, String parent,
                            LayerPipe pipe, String what) {
        Map<String, String> labels = Map.of(Labels.SNAPSHOT_REF, chainId);
        String key = null;
        List<Mount> mounts = null;
        try (pipe) {
            for (int attempt = 0; mounts == null; attempt++) {
                key = "extract-" + uniquePart() + " " + chainId;
                try {
                    mounts = snapshotter.prepare(key, parent, labels);
                } catch (AlreadyExistsException e) {
                    if (attempt >= 3) {
                        throw e;
                    }
                }
            }
            ApplyResult result;
            try {
                result = applier.apply(pipe.stream(), mounts);
            } catch (IOException e) {
                RuntimeException failure = namingTheLayer(translate(e, layer, what), layer, what);
                throw pipe.digestDeferred() ? blobMismatchOr(failure, layer, what) : failure;
            } catch (RuntimeException e) {
                RuntimeException failure = namingTheLayer(e, layer, what);
                throw pipe.digestDeferred() ? blobMismatchOr(failure, layer, what) : failure;
            }
            if (pipe.digestDeferred() && !result.diffId().equals(layer.digest())) {
                // the blob is the uncompressed tar, so its digest is the diffID the applier computed
                throw BlobMismatchException.digest(layer, result.diffId(), what);
            }
            if (!result.diffId().equals(diffId)) {
                throw new DiffIdMismatchException(layer.digest(), diffId, result.diffId());
            }
            try {
                snapshotter.commit(chainId, key, labels);
            } catch (AlreadyExistsException e) {
                LOG.debug("{} was committed by another unpacker meanwhile", chainId);
                removeQuietly(snapshotter, key, null);
                return false;
            }
            return true;
        } catch (RuntimeException | Error e) {
            if (mounts != null) {
                removeQuietly(snapshotter, key, e);
            }
            throw e;
        }
    }

    /**
     * For a blob whose digest was left to the applier, which failed before computing it: a corrupt blob
     * is reported as such, not as whatever the corruption made the applier trip over.
     */
    private RuntimeException blobMismatchOr(RuntimeException failure, Descriptor layer, String what) {
        if (failure instanceof BlobMismatchException) {
            return failure;
        }
        try {
            Digest actual = Blobs.digestOf(store, layer, what);
            if (!actual.equals(layer.digest())) {
                BlobMismatchException mismatch = BlobMismatchException.digest(layer, actual, what);
                mismatch.addSuppressed(failure);
                return mismatch;
            }
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
        return failure;
    }

    /** The applier knows no layer names: a limit it hit is reported with the layer's. */
    private static RuntimeException namingTheLayer(RuntimeException e, Descriptor layer, String what) {
        if (e instanceof LayerLimitExceededException limit) {
            return new LayerLimitExceededException(what + " (" + layer.digest() + "): " + limit.getMessage()
                    + "; raise the limits with ImageService.Builder.layerApplier if the layer is trusted", limit);
        }
        return e;
    }

    private static RuntimeException translate(IOException e, Descriptor layer, String what) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof Blobs.VerificationFailure f) {
                return f.mismatch();
            }
            if (t instanceof BerthException b) {
                return b;
            }
        }
        if (e instanceof LayerPipe.SourceFailure) {
            return new InvalidArgumentException("cannot read or decompress " + what + " (" + layer.digest() + "): "
                    + e.getMessage(), e);
        }
        return new BerthException("unpacking " + what + " (" + layer.digest() + ") failed: " + e, e);
    }

    private static void removeQuietly(Snapshotter snapshotter, String key, Throwable primary) {
        try {
            snapshotter.remove(key);
        } catch (RuntimeException e) {
            if (primary != null) {
                primary.addSuppressed(e);
            } else {
                LOG.warn("cannot remove extraction snapshot {}: {}", key, e.toString());
            }
        }
    }

    /** containerd's {@code uniquePart}: nanoseconds and three random bytes, base64url. */
    private static String uniquePart() {
        byte[] b = new byte[3];
        RANDOM.nextBytes(b);
        return (System.nanoTime() % 1_000_000_000L) + "-" + Base64.getUrlEncoder().encodeToString(b);
    }
}

package dev.berth.image;

import dev.berth.testing.LabelledStore;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.content.ContentStore;
import dev.berth.api.image.Image;
import dev.berth.content.Content;
import dev.berth.content.LocalContentStore;
import dev.berth.testing.ImageContent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.List;
import dev.berth.api.Mount;
import dev.berth.api.snapshot.Kind;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.snapshot.mount.Mounted;
import dev.berth.snapshot.mount.Mounts;
import dev.berth.testing.FileTree;

/** A content store, an in-memory image store and an image service in a temp dir. */
final class Fixture implements AutoCloseable {
    final Path dir;
    final LocalContentStore store;
    /** What the service uses: {@link #store}, or a {@link LabelledStore} over it. */
    final ContentStore content;
    final InMemoryImageStore images = new InMemoryImageStore();
    final ImageService service;

    Fixture(Path dir) {
        this(dir, null);
    }

    Fixture(Path dir, dev.berth.api.snapshot.Snapshotter snapshotter) {
        this(dir, snapshotter, false);
    }

    Fixture(Path dir, dev.berth.api.snapshot.Snapshotter snapshotter, boolean labels) {
        this.dir = dir;
        this.store = LocalContentStore.open(dir.resolve("content"));
        this.content = labels ? new LabelledStore(store) : store;
        ImageService.Builder b = ImageService.builder(content).imageStore(images);
        if (snapshotter != null) {
            b.snapshotter(snapshotter);
        }
        this.service = b.build();
    }

    /** Stores every blob of {@code content}. */
    void put(ImageContent content) {
        put(store, content.blobs());
    }

    static void put(ContentStore store, Map<Digest, byte[]> blobs) {
        int i = 0;
        for (Map.Entry<Digest, byte[]> e : blobs.entrySet()) {
            Content.writeBlob(store, "test-" + e.getKey().hex() + "-" + (i++), "application/octet-stream", e.getValue());
        }
    }

    /** Stores {@code content} and names it. */
    Image add(String name, ImageContent content) {
        put(content);
        return images.create(new Image(name, content.descriptor()));
    }

    /** Overwrites a committed blob on disk (simulating corruption): same size, one byte flipped. */
    void corrupt(Digest digest) {
        corrupt(digest, -1);
    }

    /** Flips the byte at {@code offset} of a stored blob (the middle one if negative). */
    void corrupt(Digest digest, int offset) {
        Path blob = store.root().resolve("blobs").resolve(digest.algorithm()).resolve(digest.hex());
        try {
            blob.toFile().setWritable(true);
            byte[] bytes = Files.readAllBytes(blob);
            bytes[offset < 0 ? bytes.length / 2 : offset] ^= 0x5a;
            Files.write(blob, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes a committed blob. */
    void remove(Digest digest) {
        store.delete(digest);
    }

    static Descriptor withSize(Descriptor d, long size) {
        return new Descriptor(d.mediaType(), d.digest(), size, d.urls(), d.annotations(), d.platform());
    }

    /** The tree of committed snapshot {@code chainId}, through a read-only view (mounted if overlay). */
    static FileTree tree(Snapshotter sn, Digest chainId, Path scratch) {
        String key = "view-" + UUID.randomUUID();
        List<Mount> mounts = sn.view(key, chainId.toString());
        try {
            if (mounts.size() == 1 && mounts.get(0).type().equals("bind")) {
                return FileTree.scan(Path.of(mounts.get(0).source())).withoutRoot();
            }
            Path target = scratch.resolve(key);
            try {
                Files.createDirectories(target);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            try (Mounted m = Mounts.mountAll(mounts, target)) {
                return FileTree.scan(target).withoutRoot();
            }
        } finally {
            sn.remove(key);
        }
    }

    /** Snapshots that are not committed (leftovers of a failed extraction would show up here). */
    static List<String> uncommitted(Snapshotter sn) {
        return sn.list().stream().filter(i -> i.kind() != Kind.COMMITTED).map(i -> i.name()).toList();
    }

    @Override
    public void close() {
        service.close();
        store.close();
    }
}

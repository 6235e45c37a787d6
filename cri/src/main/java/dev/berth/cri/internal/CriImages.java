package dev.berth.cri.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.Namespace;
import dev.berth.PullSettings;
import dev.berth.RegistryAccess;
import dev.berth.api.Descriptor;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import dev.berth.api.image.Image;
import dev.berth.api.image.ImageReference;
import dev.berth.api.oci.image.ImageConfig;
import dev.berth.cri.internal.proto.AuthConfig;
import dev.berth.cri.internal.proto.FilesystemIdentifier;
import dev.berth.cri.internal.proto.FilesystemUsage;
import dev.berth.cri.internal.proto.ImageFsInfoRequest;
import dev.berth.cri.internal.proto.ImageFsInfoResponse;
import dev.berth.cri.internal.proto.ImageSpec;
import dev.berth.cri.internal.proto.ImageStatusRequest;
import dev.berth.cri.internal.proto.ImageStatusResponse;
import dev.berth.cri.internal.proto.Int64Value;
import dev.berth.cri.internal.proto.ListImagesRequest;
import dev.berth.cri.internal.proto.ListImagesResponse;
import dev.berth.cri.internal.proto.PullImageRequest;
import dev.berth.cri.internal.proto.PullImageResponse;
import dev.berth.cri.internal.proto.RemoveImageRequest;
import dev.berth.cri.internal.proto.RemoveImageResponse;
import dev.berth.cri.internal.proto.UInt64Value;
import dev.berth.image.ResolvedImage;
import dev.berth.registry.Credential;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The CRI ImageService over one Berth namespace. An image's CRI id is its config digest, as containerd's
 * (every name of the same image shares it); names are Berth's normalized references.
 */
public final class CriImages {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Namespace ns;
    private final RegistryAccess registry;
    private final Path fsRoot;
    private final String pinnedName;

    CriImages(Namespace ns, RegistryAccess registry, Path fsRoot, String pinnedName) {
        this.ns = ns;
        this.registry = registry;
        this.fsRoot = fsRoot;
        this.pinnedName = pinnedName;
    }

    /** One image: its id, its names and what was resolved for this platform. */
    record Found(String id, List<Image> names, ResolvedImage resolved) {
        ImageConfig config() {
            return resolved.config();
        }
    }

    public PullImageResponse pullImage(PullImageRequest request) {
        String given = request.getImage().getImage();
        if (given.isEmpty()) {
            throw new InvalidArgumentException("PullImage needs an image reference");
        }
        ImageReference ref = ImageReference.parse(given).normalized();
        RegistryAccess access = registry;
        if (request.hasAuth()) {
            Optional<Credential> credential = credential(request.getAuth());
            if (credential.isPresent()) {
                String host = request.getAuth().getServerAddress().isEmpty() ? ref.domain()
                        : hostOf(request.getAuth().getServerAddress());
                access = access.withCredential(host, credential.get());
            }
        }
        Image image = ns.pull(ref.toString(), PullSettings.of(access), null);
        return PullImageResponse.newBuilder().setImageRef(id(ns.images().resolve(image.name()))).build();
    }

    /** The credential an AuthConfig carries: user and password, {@code auth} (base64 user:password), or a token. */
    static Optional<Credential> credential(AuthConfig auth) {
        if (!auth.getUsername().isEmpty()) {
            return Optional.of(Credential.basic(auth.getUsername(), auth.getPassword()));
        }
        if (!auth.getAuth().isEmpty()) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(auth.getAuth().trim()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new InvalidArgumentException("AuthConfig.auth is not base64: " + e.getMessage());
            }
            int colon = decoded.indexOf(':');
            if (colon < 0) {
                throw new InvalidArgumentException("AuthConfig.auth must encode user:password");
            }
            return Optional.of(Credential.basic(decoded.substring(0, colon), decoded.substring(colon + 1)));
        }
        if (!auth.getIdentityToken().isEmpty()) {
            return Optional.of(Credential.identityToken(auth.getIdentityToken()));
        }
        if (!auth.getRegistryToken().isEmpty()) {
            return Optional.of(Credential.identityToken(auth.getRegistryToken()));
        }
        return Optional.empty();
    }

    /** {@code https://host:port/v1/} → {@code host:port}; a bare host stays. */
    static String hostOf(String serverAddress) {
        String s = serverAddress;
        int scheme = s.indexOf("://");
        if (scheme >= 0) {
            s = s.substring(scheme + 3);
        }
        int slash = s.indexOf('/');
        return slash >= 0 ? s.substring(0, slash) : s;
    }

    public ListImagesResponse listImages(ListImagesRequest request) {
        ListImagesResponse.Builder out = ListImagesResponse.newBuilder();
        String filter = request.hasFilter() ? request.getFilter().getImage().getImage() : "";
        if (!filter.isEmpty()) {
            find(filter).ifPresent(f -> out.addImages(toProto(f)));
            return out.build();
        }
        for (Found f : all().values()) {
            out.addImages(toProto(f));
        }
        return out.build();
    }

    public ImageStatusResponse imageStatus(ImageStatusRequest request) {
        Optional<Found> found = find(request.getImage().getImage());
        ImageStatusResponse.Builder out = ImageStatusResponse.newBuilder();
        if (found.isEmpty()) {
            return out.build(); // no image: an empty answer, not an error
        }
        Found f = found.get();
        out.setImage(toProto(f));
        if (request.getVerbose()) {
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("id", f.id());
            info.put("names", f.names().stream().map(Image::name).toList());
            info.put("target", f.resolved().target().digest().toString());
            info.put("chainIds", f.resolved().chainIds().stream().map(Object::toString).toList());
            ImageConfig.Config c = f.config().config();
            if (c != null) {
                Map<String, Object> config = new LinkedHashMap<>();
                config.put("user", c.user());
                config.put("env", c.env());
                config.put("entrypoint", c.entrypoint());
                config.put("cmd", c.cmd());
                config.put("workingDir", c.workingDir());
                config.put("labels", c.labels());
                config.put("stopSignal", c.stopSignal());
                info.put("config", config);
            }
            out.putInfo("info", json(info));
        }
        return out.build();
    }

    public RemoveImageResponse removeImage(RemoveImageRequest request) {
        Optional<Found> found = find(request.getImage().getImage());
        if (found.isEmpty()) {
            return RemoveImageResponse.getDefaultInstance(); // already gone
        }
        for (Image name : found.get().names()) {
            try {
                ns.images().delete(name.name());
            } catch (NotFoundException alreadyGone) {
                // removed meanwhile
            }
        }
        return RemoveImageResponse.getDefaultInstance();
    }

    public ImageFsInfoResponse imageFsInfo(ImageFsInfoRequest request) {
        long[] usage = usage(fsRoot);
        FilesystemUsage fs = FilesystemUsage.newBuilder()
                .setTimestamp(CriRuntime.nanos(java.time.Instant.now()))
                .setFsId(FilesystemIdentifier.newBuilder().setMountpoint(fsRoot.toString()))
                .setUsedBytes(UInt64Value.newBuilder().setValue(usage[0]))
                .setInodesUsed(UInt64Value.newBuilder().setValue(usage[1]))
                .build();
        return ImageFsInfoResponse.newBuilder().addImageFilesystems(fs).build();
    }

    /** The image {@code spec} names: an id ({@code sha256:…} of its config), a reference or a digest reference. */
    Optional<Found> find(String spec) {
        if (spec.isEmpty()) {
            return Optional.empty();
        }
        String id = spec.startsWith("sha256:") ? spec : spec.matches("[0-9a-f]{64}") ? "sha256:" + spec : null;
        if (id != null) {
            return Optional.ofNullable(all().get(id));
        }
        String name;
        try {
            name = ImageReference.parse(spec).normalized().toString();
        } catch (InvalidArgumentException e) {
            return Optional.empty();
        }
        ResolvedImage resolved;
        try {
            resolved = ns.images().resolve(name);
        } catch (NotFoundException e) {
            return Optional.empty();
        }
        String imageId = id(resolved);
        Found all = all().get(imageId);
        return Optional.of(all != null ? all : new Found(imageId, List.of(ns.images().get(name)), resolved));
    }

    /** The image {@code spec} names. @throws NotFoundException if there is none */
    Found require(String spec) {
        return find(spec).orElseThrow(() -> new NotFoundException("image \"" + spec + "\" not found in namespace "
                + ns.name() + " (pull it first)"));
    }

    /** Every image of the namespace that resolves for this platform, by id. */
    Map<String, Found> all() {
        Map<String, List<Image>> names = new LinkedHashMap<>();
        Map<String, ResolvedImage> resolved = new LinkedHashMap<>();
        for (Image image : ns.images().list()) {
            ResolvedImage r;
            try {
                r = ns.images().resolve(image.name());
            } catch (RuntimeException notRunnable) {
                continue; // an index without this platform, or content not here
            }
            String id = id(r);
            names.computeIfAbsent(id, k -> new ArrayList<>()).add(image);
            resolved.putIfAbsent(id, r);
        }
        Map<String, Found> out = new LinkedHashMap<>();
        names.forEach((id, n) -> out.put(id, new Found(id, n, resolved.get(id))));
        return out;
    }

    static String id(ResolvedImage resolved) {
        return resolved.manifest().config().digest().toString();
    }

    private dev.berth.cri.internal.proto.Image toProto(Found f) {
        dev.berth.cri.internal.proto.Image.Builder b = dev.berth.cri.internal.proto.Image.newBuilder().setId(f.id());
        for (Image name : f.names()) {
            ImageReference ref = ImageReference.parse(name.name());
            if (ref.tagIfPresent().isPresent()) {
                b.addRepoTags(name.name());
            }
            String digested = ref.name() + "@" + name.target().digest();
            if (!b.getRepoDigestsList().contains(digested)) {
                b.addRepoDigests(digested);
            }
            if (name.name().equals(pinnedName)) {
                b.setPinned(true);
            }
        }
        // every blob of the image for this platform, as containerd counts it: the index (if any), the manifest,
        // the config and the layers
        var resolved = f.resolved();
        long size = resolved.manifestDescriptor().size() + resolved.manifest().config().size();
        if (!resolved.target().digest().equals(resolved.manifestDescriptor().digest())) {
            size += resolved.target().size();
        }
        for (Descriptor layer : f.resolved().layers()) {
            size += layer.size();
        }
        b.setSize(size);
        String user = f.config().config() == null ? null : f.config().config().user();
        if (user != null && !user.isEmpty()) {
            String u = user.contains(":") ? user.substring(0, user.indexOf(':')) : user;
            if (u.matches("[0-9]+")) {
                b.setUid(Int64Value.newBuilder().setValue(Long.parseLong(u)));
            } else {
                b.setUsername(u);
            }
        }
        b.setSpec(ImageSpec.newBuilder().setImage(f.id()));
        return b.build();
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (IOException e) {
            return "{}";
        }
    }

    /** Bytes and inodes used under {@code root}, entries that vanish while walking skipped. */
    private static long[] usage(Path root) {
        long[] out = new long[2];
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    out[0] += attrs.size();
                    out[1]++;
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    out[1]++;
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // partial usage is still an answer
        }
        return out;
    }
}

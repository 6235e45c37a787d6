package dev.berth.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * bin/berth's training run for its class-data-sharing archive: runs, in this one JVM, the commands whose
 * classes the archive should hold: {@code images ls} (first of a root not made yet, {@link EmptyRootListing}),
 * {@code content ingest} of standard input (bin/berth
 * redirects a small file there), {@code content rm}, {@code images import} of a one-layer OCI archive made
 * here, and {@code images ls} of the imported image. A long command otherwise loads some 1,300 classes
 * (Jackson, tar, layer apply, jnr-ffi) from jars, parsing and verifying each. Failures are ignored: what
 * was loaded until then is archived all the same.
 *
 * <p>Usage: {@code CdsTraining SCRATCH_DIR} (root, state and the archive go below it).
 */
public final class CdsTraining {
    private CdsTraining() {
    }

    public static void main(String[] args) throws IOException {
        Path scratch = Path.of(args[0]);
        Main.processStdin = System.in;
        try {
            Main.useLibCrypto("auto");
        } catch (RuntimeException e) {
            // the JDK's SHA-256 then, as bin/berth's long commands would have it
        }
        String[] at = {"--root", scratch.resolve("root").toString(), "--state", scratch.resolve("state").toString()};
        Path archive = scratch.resolve("train.tar");
        Files.write(archive, ociArchive());
        PrintWriter out = new PrintWriter(Writer.nullWriter());
        PrintWriter err = new PrintWriter(Writer.nullWriter());
        // images ls of a root with no metadata yet, as bin/berth answers it first (EmptyRootListing)
        EmptyRootListing.answer(join(at, "images", "ls"), System.getenv(), out);
        EmptyRootListing.answer(join(at, "--json", "images", "ls"), System.getenv(), out);
        Main.run(join(at, "images", "ls"), out, err);
        java.io.StringWriter digest = new java.io.StringWriter();
        Main.run(join(at, "content", "ingest", "cds-training"), new PrintWriter(digest, true), err);
        if (!digest.toString().isBlank()) {
            Main.run(join(at, "content", "rm", digest.toString().strip()), out, err);
        }
        Main.run(join(at, "images", "import", archive.toString()), out, err);
        Main.run(join(at, "images", "ls"), out, err);
        Main.run(join(at, "--json", "images", "ls"), out, err);
    }

    private static String[] join(String[] head, String... tail) {
        String[] all = new String[head.length + tail.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(tail, 0, all, head.length, tail.length);
        return all;
    }

    /** An OCI image layout as a tar: one gzip layer holding {@code etc/berth-cds} and a directory. */
    static byte[] ociArchive() throws IOException {
        Map<String, byte[]> layerFiles = new LinkedHashMap<>();
        layerFiles.put("etc/", null);
        layerFiles.put("etc/berth-cds", "class-data sharing training\n".getBytes(StandardCharsets.UTF_8));
        byte[] layerTar = tar(layerFiles);
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(gz)) {
            z.write(layerTar);
        }
        byte[] layer = gz.toByteArray();
        String arch = switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            default -> System.getProperty("os.arch");
        };
        byte[] config = ("{\"architecture\":\"" + arch + "\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/true\"]},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + sha256(layerTar) + "\"]}}")
                .getBytes(StandardCharsets.UTF_8);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":" + descriptor("application/vnd.oci.image.config.v1+json", config) + ","
                + "\"layers\":[" + descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer) + "]}")
                .getBytes(StandardCharsets.UTF_8);
        String manifestDesc = descriptor("application/vnd.oci.image.manifest.v1+json", manifest);
        byte[] index = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
                + manifestDesc.substring(0, manifestDesc.length() - 1)
                + ",\"annotations\":{\"io.containerd.image.name\":\"localhost/berth-cds-training:1\","
                + "\"org.opencontainers.image.ref.name\":\"1\"}}]}").getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
        files.put("index.json", index);
        files.put("blobs/", null);
        files.put("blobs/sha256/", null);
        for (byte[] blob : new byte[][] {layer, config, manifest}) {
            files.put("blobs/sha256/" + sha256(blob).substring("sha256:".length()), blob);
        }
        return tar(files);
    }

    private static String descriptor(String mediaType, byte[] blob) {
        return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + sha256(blob) + "\",\"size\":" + blob.length + "}";
    }

    private static String sha256(byte[] data) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A ustar archive of {@code files} (a name ending in '/' with null content is a directory). */
    static byte[] tar(Map<String, byte[]> files) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            byte[] data = f.getValue() == null ? new byte[0] : f.getValue();
            boolean dir = f.getValue() == null;
            byte[] h = new byte[512];
            put(h, 0, f.getKey(), 100);
            put(h, 100, octal(dir ? 0755 : 0644, 7), 8);
            put(h, 108, octal(0, 7), 8);
            put(h, 116, octal(0, 7), 8);
            put(h, 124, octal(data.length, 11), 12);
            put(h, 136, octal(1_700_000_000L, 11), 12);
            java.util.Arrays.fill(h, 148, 156, (byte) ' ');
            h[156] = (byte) (dir ? '5' : '0');
            put(h, 257, "ustar", 6);
            put(h, 263, "00", 2);
            long sum = 0;
            for (byte b : h) {
                sum += b & 0xff;
            }
            put(h, 148, octal(sum, 6), 7);
            out.writeBytes(h);
            out.writeBytes(data);
            out.writeBytes(new byte[(512 - data.length % 512) % 512]);
        }
        out.writeBytes(new byte[1024]);
        return out.toByteArray();
    }

    private static String octal(long value, int digits) {
        String s = Long.toOctalString(value);
        return "0".repeat(Math.max(0, digits - s.length())) + s;
    }

    private static void put(byte[] header, int at, String value, int max) {
        byte[] b = value.getBytes(StandardCharsets.US_ASCII);
        if (b.length > max) {
            throw new UncheckedIOException(new IOException("tar field too long: " + value));
        }
        System.arraycopy(b, 0, header, at, b.length);
    }
}

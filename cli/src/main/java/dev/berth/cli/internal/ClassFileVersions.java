package dev.berth.cli.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;

/**
 * Copies a jar, rewriting classes older than Java 6 (class file major 49 and below) as version 50 with
 * stack map frames computed by ASM. The JDK's class-data sharing archives no class older than 50, nor a
 * version-50 class that needs the old inference verifier (no frames), and picocli ships as Java 5 classes:
 * without this {@code bin/berth} would load and verify picocli's ~180 classes from the jar on every call.
 * Only the version and the frames change. A class ASM cannot rewrite is copied as it is. Run by
 * {@code bin/berth} when it rebuilds the archive: {@code ClassFileVersions <in.jar> <out.jar>}.
 */
public final class ClassFileVersions {
    private static final int JAVA_6 = 50;

    private ClassFileVersions() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: ClassFileVersions IN.jar OUT.jar");
            System.exit(2);
        }
        int raised = copy(Path.of(args[0]), Path.of(args[1]));
        System.out.println(raised + " classes raised to version " + JAVA_6);
    }

    /** Copies {@code in} to {@code out}; returns how many classes were raised. */
    static int copy(Path in, Path out) throws IOException {
        int raised = 0;
        try (URLClassLoader types = new URLClassLoader(new URL[] {in.toUri().toURL()},
                ClassLoader.getPlatformClassLoader());
             JarInputStream jar = new JarInputStream(Files.newInputStream(in));
             OutputStream file = Files.newOutputStream(out)) {
            Manifest manifest = jar.getManifest();
            try (JarOutputStream copy = manifest == null ? new JarOutputStream(file)
                    : new JarOutputStream(file, manifest)) {
                JarEntry entry;
                while ((entry = jar.getNextJarEntry()) != null) {
                    byte[] bytes = readAll(jar);
                    if (entry.getName().endsWith(".class") && isOld(bytes)) {
                        byte[] rewritten = rewrite(bytes, types);
                        if (rewritten != null) {
                            bytes = rewritten;
                            raised++;
                        }
                    }
                    JarEntry e = new JarEntry(entry.getName());
                    e.setTime(entry.getTime());
                    copy.putNextEntry(e);
                    copy.write(bytes);
                    copy.closeEntry();
                }
            }
        }
        return raised;
    }

    /** Whether {@code c} is a class file older than version 50. */
    static boolean isOld(byte[] c) {
        if (c.length < 8 || (c[0] & 0xff) != 0xca || (c[1] & 0xff) != 0xfe || (c[2] & 0xff) != 0xba
                || (c[3] & 0xff) != 0xbe) {
            return false;
        }
        return (((c[6] & 0xff) << 8) | (c[7] & 0xff)) < JAVA_6;
    }

    /** The class as version 50 with frames; null if ASM cannot compute them (it is then copied unchanged). */
    static byte[] rewrite(byte[] c, ClassLoader types) {
        try {
            ClassReader reader = new ClassReader(c);
            ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_FRAMES) {
                @Override
                protected ClassLoader getClassLoader() {
                    return types;
                }
            };
            reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
                @Override
                public void visit(int version, int access, String name, String signature, String superName,
                                  String[] interfaces) {
                    super.visit(Opcodes.V1_6, access, name, signature, superName, interfaces);
                }
            }, ClassReader.SKIP_FRAMES);
            return writer.toByteArray();
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        return in.readAllBytes();
    }
}

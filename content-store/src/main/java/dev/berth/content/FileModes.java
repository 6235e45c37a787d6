package dev.berth.content;

import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The modes the store creates files and directories with, as containerd's: passing them at creation keeps the
 * JVM's umask (which may be 000) from widening them, since a umask can only remove bits.
 */
final class FileModes {
    /** The root and the blob directories: others may open a blob whose digest they know, but not list them. */
    static final FileAttribute<Set<PosixFilePermission>> SHARED_DIR =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x"));
    /** Ingests and locks: the owner's only. */
    static final FileAttribute<Set<PosixFilePermission>> PRIVATE_DIR =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    static final FileAttribute<Set<PosixFilePermission>> PRIVATE_FILE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    /** A committed blob: read-only for everyone, as containerd leaves it. */
    static final Set<PosixFilePermission> BLOB = PosixFilePermissions.fromString("r--r--r--");

    private FileModes() {
    }
}

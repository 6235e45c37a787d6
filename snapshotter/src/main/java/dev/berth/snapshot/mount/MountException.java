package dev.berth.snapshot.mount;

import dev.berth.api.BerthException;

/**
 * A mount-related system call failed. The message names the errno ({@code EPERM}, {@code EINVAL}, ...),
 * the call ({@code mount}, {@code umount2}, {@code fsconfig}, ...), the source, target and file system
 * type, plus whatever the kernel said about it when it said anything (the new mount API reports
 * reasons such as {@code overlay: failed to resolve 'x'}).
 */
public class MountException extends BerthException {
    private static final long serialVersionUID = 1L;

    private final int errno;
    private final String errnoName;
    private final String syscall;
    private final String source;
    private final String target;
    private final String fstype;

    public MountException(String syscall, int errno, String errnoName, String description, String source,
                          String target, String fstype, String kernelMessage) {
        super(message(syscall, errnoName, description, source, target, fstype, kernelMessage));
        this.errno = errno;
        this.errnoName = errnoName;
        this.syscall = syscall;
        this.source = source;
        this.target = target;
        this.fstype = fstype;
    }

    private static String message(String syscall, String errnoName, String description, String source,
                                  String target, String fstype, String kernelMessage) {
        StringBuilder sb = new StringBuilder(syscall).append(" failed: ").append(errnoName);
        if (description != null && !description.isEmpty()) {
            sb.append(" (").append(description).append(')');
        }
        if (fstype != null && !fstype.isEmpty()) {
            sb.append(", type ").append(fstype);
        }
        if (source != null && !source.isEmpty()) {
            sb.append(", source ").append(source);
        }
        if (target != null && !target.isEmpty()) {
            sb.append(", target ").append(target);
        }
        if (kernelMessage != null && !kernelMessage.isEmpty()) {
            sb.append(": ").append(kernelMessage);
        }
        return sb.toString();
    }

    /** The errno value, e.g. 1 for EPERM. */
    public int errno() {
        return errno;
    }

    /** The symbolic errno name, e.g. {@code EPERM}. */
    public String errnoName() {
        return errnoName;
    }

    /** The system call that failed, e.g. {@code mount}. */
    public String syscall() {
        return syscall;
    }

    /** The mount source, or empty. */
    public String source() {
        return source == null ? "" : source;
    }

    /** The mount target, or empty. */
    public String target() {
        return target == null ? "" : target;
    }

    /** The file system type, or empty. */
    public String fstype() {
        return fstype == null ? "" : fstype;
    }
}

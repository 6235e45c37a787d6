package dev.berth.runtime.spec;

import dev.berth.api.oci.runtime.LinuxSeccomp;
import dev.berth.api.oci.runtime.LinuxSeccomp.Arg;
import dev.berth.api.oci.runtime.LinuxSeccomp.Syscall;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The seccomp filter every non-privileged container gets: the syscall policy of Docker's and containerd's
 * default profile. Unknown syscalls fail with {@code EPERM}; the allow list covers what ordinary programs
 * use; syscalls that are only safe with a capability (mount, namespaces, modules, the clock, tracing,
 * bpf ...) are allowed only when the container holds that capability.
 *
 * <p>Without {@code CAP_SYS_ADMIN}, {@code clone} is allowed only without namespace flags and
 * {@code clone3} fails with {@code ENOSYS}: its flags live in memory a filter cannot read, and
 * {@code ENOSYS} makes libc fall back to {@code clone}.
 */
public final class DefaultSeccomp {
    static final long EPERM = 1;
    static final long ENOSYS = 38;

    /** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: clone flags that create namespaces. */
    static final long CLONE_NAMESPACE_FLAGS = 0x7E020000L;

    private static final String ALLOW = "SCMP_ACT_ALLOW";

    private static final List<String> ALWAYS_ALLOWED = names("""
            accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32
            clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
            clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3
            epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old
            eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64
            fallocate fanotify_mark fchdir fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync
            fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64
            fsync ftruncate ftruncate64 futex futex_time64 futex_waitv futimesat getcpu getcwd getdents
            getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer
            getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid
            getresuid32 getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid
            gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init inotify_init1 inotify_rm_watch
            io_cancel ioctl io_destroy io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set
            io_setup io_submit io_uring_enter io_uring_register io_uring_setup ipc kill landlock_add_rule
            landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen
            listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise membarrier
            memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2
            mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend
            mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap
            name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause pidfd_open
            pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl
            pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2
            read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg
            remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction
            rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
            rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam
            sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval
            sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam sched_setscheduler
            sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send sendfile sendfile64
            sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32
            setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32
            setreuid setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address
            setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4
            sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statx symlink
            symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete
            timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create
            timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64
            ugetrlimit umask uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4
            waitid waitpid write writev
            """);

    /** Allowed on kernels from 4.8, where seccomp runs after ptrace and a tracer cannot bypass the filter. */
    private static final List<String> TRACING = names("process_vm_readv process_vm_writev ptrace");

    /** {@code personality(2)} arguments allowed: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, query. */
    private static final long[] PERSONALITIES = {0x0, 0x8, 0x20000, 0x20008, 0xffffffffL};

    private static final long AF_VSOCK = 40;

    private static final List<String> SYS_ADMIN_ONLY = names("""
            bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr
            move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog
            umount umount2 unshare
            """);

    private record CapabilityRule(Capability capability, List<String> syscalls) {
    }

    private static final List<CapabilityRule> CAPABILITY_RULES = List.of(
            new CapabilityRule(Capability.DAC_READ_SEARCH, names("open_by_handle_at")),
            new CapabilityRule(Capability.SYS_ADMIN, SYS_ADMIN_ONLY),
            new CapabilityRule(Capability.SYS_BOOT, names("reboot")),
            new CapabilityRule(Capability.SYS_CHROOT, names("chroot")),
            new CapabilityRule(Capability.SYS_MODULE, names("delete_module init_module finit_module")),
            new CapabilityRule(Capability.SYS_PACCT, names("acct")),
            new CapabilityRule(Capability.SYS_PTRACE,
                    names("kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace")),
            new CapabilityRule(Capability.SYS_RAWIO, names("iopl ioperm")),
            new CapabilityRule(Capability.SYS_TIME, names("settimeofday stime clock_settime clock_settime64")),
            new CapabilityRule(Capability.SYS_TTY_CONFIG, names("vhangup")),
            new CapabilityRule(Capability.SYS_NICE, names("get_mempolicy mbind set_mempolicy set_mempolicy_home_node")),
            new CapabilityRule(Capability.SYSLOG, names("syslog")),
            new CapabilityRule(Capability.BPF, names("bpf")),
            new CapabilityRule(Capability.PERFMON, names("perf_event_open")));

    private DefaultSeccomp() {
    }

    /**
     * The profile for a container holding {@code capabilities}, for this machine's architecture and kernel,
     * listing only the compat architectures the kernel was built to run.
     */
    public static LinuxSeccomp forCapabilities(Set<Capability> capabilities) {
        return forCapabilities(capabilities, System.getProperty("os.arch"), System.getProperty("os.version"),
                CompatAbis.ofRunningKernel());
    }

    /**
     * The profile for a container holding {@code capabilities} on architecture {@code arch} (Java's
     * {@code os.arch}: {@code amd64}, {@code aarch64} ...) and kernel release {@code kernel}, for a kernel
     * built with every compat ABI of that architecture.
     */
    public static LinuxSeccomp forCapabilities(Set<Capability> capabilities, String arch, String kernel) {
        return forCapabilities(capabilities, arch, kernel, CompatAbis.ALL);
    }

    static LinuxSeccomp forCapabilities(Set<Capability> capabilities, String arch, String kernel,
            CompatAbis compat) {
        String machine = arch.toLowerCase(Locale.ROOT);
        boolean x86 = machine.equals("amd64") || machine.equals("x86_64") || machine.equals("x86")
                || machine.equals("i386");
        boolean arm = machine.equals("aarch64") || machine.equals("arm64") || machine.startsWith("arm");
        boolean s390 = machine.startsWith("s390");

        List<Syscall> rules = new ArrayList<>();
        rules.add(allow(ALWAYS_ALLOWED));
        if (kernelAtLeast(kernel, 4, 8)) {
            rules.add(allow(TRACING));
        }
        rules.add(new Syscall(List.of("socket"), ALLOW, null, List.of(new Arg(0, AF_VSOCK, 0, "SCMP_CMP_NE"))));
        for (long persona : PERSONALITIES) {
            rules.add(new Syscall(List.of("personality"), ALLOW, null, List.of(new Arg(0, persona, 0, "SCMP_CMP_EQ"))));
        }
        if (x86) {
            rules.add(allow(names("arch_prctl modify_ldt")));
        }
        if (arm) {
            rules.add(allow(names("arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls")));
        }
        for (CapabilityRule rule : CAPABILITY_RULES) {
            if (capabilities.contains(rule.capability())) {
                rules.add(allow(rule.syscalls()));
            }
        }
        if (!capabilities.contains(Capability.SYS_ADMIN)) {
            // s390's clone takes the flags second
            int flagsArg = s390 ? 1 : 0;
            rules.add(new Syscall(List.of("clone"), ALLOW, null,
                    List.of(new Arg(flagsArg, CLONE_NAMESPACE_FLAGS, 0, "SCMP_CMP_MASKED_EQ"))));
            rules.add(new Syscall(List.of("clone3"), "SCMP_ACT_ERRNO", ENOSYS, List.of()));
        }
        return LinuxSeccomp.builder()
                .defaultAction("SCMP_ACT_ERRNO")
                .defaultErrnoRet(EPERM)
                .architectures(architectures(machine, compat))
                .syscalls(rules)
                .build();
    }

    /** The native architecture and the ones it can also run (32-bit x86 and x32 on x86_64, arm on aarch64). */
    static List<String> architectures(String machine, CompatAbis compat) {
        return switch (machine) {
            case "amd64", "x86_64" -> {
                List<String> arches = new ArrayList<>(List.of("SCMP_ARCH_X86_64"));
                if (compat.ia32()) {
                    arches.add("SCMP_ARCH_X86");
                }
                if (compat.x32()) {
                    arches.add("SCMP_ARCH_X32");
                }
                yield List.copyOf(arches);
            }
            case "aarch64", "arm64" -> List.of("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM");
            case "x86", "i386" -> List.of("SCMP_ARCH_X86");
            case "arm" -> List.of("SCMP_ARCH_ARM");
            case "s390x" -> List.of("SCMP_ARCH_S390X", "SCMP_ARCH_S390");
            case "ppc64le" -> List.of("SCMP_ARCH_PPC64LE");
            case "riscv64" -> List.of("SCMP_ARCH_RISCV64");
            default -> List.of(); // the native architecture only
        };
    }

    static boolean kernelAtLeast(String release, int major, int minor) {
        String[] parts = release.split("[.\\-+]");
        try {
            int maj = Integer.parseInt(parts[0]);
            int min = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
            return maj > major || (maj == major && min >= minor);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static Syscall allow(List<String> names) {
        return new Syscall(names, ALLOW, null, List.of());
    }

    private static List<String> names(String words) {
        return Arrays.stream(words.trim().split("\\s+")).toList();
    }
}

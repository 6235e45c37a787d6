# Berth session reaper: started by a TaskRuntime with its stdin a pipe the JVM holds open. When that
# pipe closes - the runtime closed, or its JVM exited, crashed or was SIGKILLed - every task registered
# in the session directory ($1) is killed and removed, with nothing of the JVM needed any more.
# A registration is a file "<ns>@<id>.task" of seven lines: namespace, id, bundle, shim binary,
# the -address the shim was started with, the task's FIFO directory, and 1 if the shim runs in a
# private mount namespace with cgroup2 at /sys/fs/cgroup (its cleanup must see the same).
trap '' HUP INT PIPE
session=$1

while read -r _; do :; done

now() { date '+%Y-%m-%dT%H:%M:%S'; }

for reg in "$session"/*.task; do
  [ -f "$reg" ] || continue
  {
    IFS= read -r ns; IFS= read -r id; IFS= read -r bundle; IFS= read -r shim
    IFS= read -r address; IFS= read -r fifo; IFS= read -r cgroup2
  } < "$reg"
  echo "$(now) reaping $ns/$id"
  # The shim's own cleanup: runc delete --force (kills the container) and unmounting the rootfs.
  if [ -d "$bundle" ]; then
    set -- "$shim" -namespace "$ns" -address "$address" -publish-binary /bin/false -id "$id" -bundle "$bundle" delete
    if [ "$cgroup2" = 1 ]; then
      set -- unshare --mount --propagation private -- /bin/sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$@"' \
        berth-cgroup2 "$@"
    fi
    ( cd "$bundle" && "$@" > /dev/null ) || echo "$(now) $ns/$id: shim delete failed"
  fi
  # The serving shim outlives that; it is the process started with exactly these flags.
  for proc in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' < "$proc/cmdline" 2> /dev/null) || continue
    case "$cmd" in
      "$shim -namespace $ns -id $id -address $address "*) kill -9 "${proc#/proc/}" 2> /dev/null ;;
    esac
  done
  if [ -f "$bundle/address" ]; then
    IFS= read -r socket < "$bundle/address" || true
    case "$socket" in unix://*) rm -f "${socket#unix://}" ;; esac
  fi
  if [ -d "$bundle" ]; then
    umount -l "$bundle/rootfs" 2> /dev/null
    # Removing through a mount would delete image data: only a bundle whose rootfs is gone or empty.
    if [ ! -e "$bundle/rootfs" ] || rmdir "$bundle/rootfs" 2> /dev/null; then
      doomed="$(dirname "$bundle")/.$id"
      rm -rf "$doomed"
      mv "$bundle" "$doomed" && rm -rf "$doomed"
    else
      echo "$(now) $ns/$id: $bundle/rootfs is still mounted; bundle left in place"
    fi
  fi
  [ -n "$fifo" ] && rm -rf "$fifo"
  rm -f "$reg"
done
rm -f "$session/watcher"
rmdir "$session" 2> /dev/null
echo "$(now) session done"

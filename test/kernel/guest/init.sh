#!/bin/sh
# PID 1 of a User-Mode Linux guest started by test/kernel/guest.ts. The guest's root is the
# host's filesystem (hostfs), so everything below reads and writes the host's files unless a
# tmpfs covers them. GUEST_RUN (from the kernel command line) is the run's directory on the host:
#   modules     kernel modules to load, one a line
#   env         variables for the script (OURS, REFERENCE)
#   test.sh     the test's script, run by run.sh beside this file (bash, lib.sh sourced)
#   in/         files the test handed in ($IN)
#   out/        files the script writes for the host to read ($OUT)
# and this script writes there: stdout, stderr (the script's) and status (its exit status),
# written last, so a missing status means the script never finished.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8

mount -t proc proc /proc
mount -t sysfs sysfs /sys
# The guest's own /run: network namespace names, plugin locks and the xtables lock never meet
# the host's. /var/lib/cni likewise: host-local leases and cached results stay in the guest.
mount -t tmpfs tmpfs /run
mkdir -p /var/lib/cni && mount -t tmpfs tmpfs /var/lib/cni

finish() {
  echo "$1" > "$GUEST_RUN/status.partial" && mv "$GUEST_RUN/status.partial" "$GUEST_RUN/status"
  sync
  poweroff -f
}

# modprobe looks for <dir>/lib/modules/<release>; the UML kernel's modules live elsewhere. The
# kernel's own module requests (a link kind, a netfilter table) go through the same root.
release=$(uname -r)
modules=/run/uml-modules
mkdir -p "$modules/lib/modules"
ln -s "/usr/lib/uml/modules/$release" "$modules/lib/modules/$release"
printf '#!/bin/sh\nexec /sbin/modprobe -d %s "$@"\n' "$modules" > "$modules/modprobe"
chmod +x "$modules/modprobe"
echo "$modules/modprobe" > /proc/sys/kernel/modprobe
while read -r module; do
  [ -n "$module" ] || continue
  if ! modprobe -d "$modules" "$module" 2> "$GUEST_RUN/stderr"; then
    echo "guest: modprobe $module failed (modules of $release are in /usr/lib/uml/modules)" >> "$GUEST_RUN/stderr"
    finish 125
  fi
done < "$GUEST_RUN/modules"

ip link set lo up
cd "$GUEST_RUN/out"
bash "$(dirname "$0")/run.sh" < /dev/null > "$GUEST_RUN/stdout" 2> "$GUEST_RUN/stderr"
finish $?

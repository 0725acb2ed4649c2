#!/bin/sh
# /init of the hw-tests VM (embedded in the hw-tests binary from
# hw-tests/src/vm/guest/init.sh; see hw-tests/src/vm/initramfs.rs).
#
# Kernel command-line words arrive here as environment variables:
#   HWTEST_SCENARIO  the scenario (`probe`: leave at once, for the KVM probe)
#   HWTEST_EXE       the hw-tests binary, a host path (the host's / becomes our root)
#   HWTEST_OUT       the run's output directory, a host path shared read-write
#   HWTEST_9P_CACHE  the 9p cache mode for the host's root (read-only, so `loose`)
#
# Stage 1 (in the initramfs): load the 9p modules, mount the host's / read-only over
# 9p on /host, with tmpfs on /tmp, /var/tmp and /run (the cargo target directory bound
# back if they hide it), the guest's own proc, sys, dev and configfs, and the output
# share mounted on the same path it has on the host.
# Then PID 1 itself chroots into /host (`exec chroot`), running this script again as
# stage 2. It must be PID 1: kernel threads share PID 1's root (CLONE_FS), and LIO
# writes its persistent-reservation files and the kernel runs /sbin/modprobe from
# kernel threads; a child's chroot would leave them in the initramfs.
#
# Stage 2 (PID 1 in the chroot): run `$HWTEST_EXE vm-guest $HWTEST_SCENARIO --out
# $HWTEST_OUT`, its output to $HWTEST_OUT/guest.log, not the console (a serial
# console is slow). Its exit code leaves through QEMU's isa-debug-exit port 0xf4:
# QEMU then exits with rc*2+1. Codes 100 and up are this script's own failures (see
# hw-tests/src/vm/qemu.rs).

STAGE2_DIR=/run/hwtest-init

if [ "$1" = stage2 ]; then
	bb=$STAGE2_DIR/busybox
	export PATH=/usr/sbin:/usr/bin:/sbin:/bin
else
	bb=/bin/busybox
	export PATH=/bin
	$bb --install -s /bin
fi

exit_vm() {
	$bb sync
	# One byte, value $1, to I/O port 0xf4 (244).
	printf "\\$(printf %03o "$1")" | $bb dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	echo "hwtest: init: isa-debug-exit did not stop the VM (rc $1); powering off"
	$bb poweroff -f
	$bb sleep 3600
}

fail() {
	echo "hwtest: init: $2"
	exit_vm "$1"
}

if [ "$1" = stage2 ]; then
	echo "hwtest: guest program starting (uptime $($bb cut -d' ' -f1 /proc/uptime) s)"
	HOME=/root RUST_BACKTRACE=1 "$HWTEST_EXE" vm-guest "$HWTEST_SCENARIO" --out "$HWTEST_OUT" \
		>"$HWTEST_OUT/guest.log" 2>&1
	rc=$?
	echo "hwtest: guest program exited with $rc"
	exit_vm "$rc"
fi

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev || fail 100 "mounting devtmpfs on /dev failed"

[ "$HWTEST_SCENARIO" = probe ] && exit_vm 42

while read -r m; do
	insmod "/mods/$m" || fail 101 "insmod /mods/$m failed"
done </mods/order

opts=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o "$opts,ro,cache=${HWTEST_9P_CACHE:-loose}" hostroot /host ||
	fail 102 "mounting the host's / (9p tag hostroot) on /host failed"
[ -n "$HWTEST_OUT" ] && [ -d "/host$HWTEST_OUT" ] ||
	fail 103 "the output directory HWTEST_OUT='$HWTEST_OUT' is not a directory of the host"
# A second view of the host's / without the mounts below, to bring back the cargo
# target directory should one of the tmpfs mounts hide it (a checkout under /tmp).
mkdir -p /ro && mount --bind /host /ro || fail 104 "binding the host's / on /ro failed"
target=$(dirname "$(dirname "$HWTEST_EXE")")

for d in tmp var/tmp run; do
	mount -t tmpfs -o mode=1777 tmpfs "/host/$d" || fail 104 "mounting a tmpfs on /$d failed"
done
chmod 755 /host/run
if [ ! -d "/host$target" ]; then
	mkdir -p "/host$target" && mount --bind "/ro$target" "/host$target" ||
		fail 104 "bringing back the target directory $target over the tmpfs failed"
fi
mount -t 9p -o "$opts" out "/host$HWTEST_OUT" ||
	fail 103 "mounting the output share (9p tag out) on $HWTEST_OUT failed"
mount -t proc proc /host/proc || fail 104 "mounting proc in the chroot failed"
mount -t sysfs sysfs /host/sys || fail 104 "mounting sysfs in the chroot failed"
mount -t devtmpfs devtmpfs /host/dev || fail 104 "mounting devtmpfs in the chroot failed"
mount -t configfs configfs /host/sys/kernel/config || fail 104 "mounting configfs in the chroot failed"
mkdir -p /host/dev/shm /host/dev/pts
# What udev would add: /dev/fd and /dev/std{in,out,err}.
ln -s /proc/self/fd /host/dev/fd && ln -s fd/0 /host/dev/stdin && ln -s fd/1 /host/dev/stdout &&
	ln -s fd/2 /host/dev/stderr || fail 104 "creating /dev/fd and /dev/std* failed"
mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm || fail 104 "mounting /dev/shm failed"
mount -t devpts devpts /host/dev/pts || fail 104 "mounting /dev/pts failed"

mkdir -p "/host$STAGE2_DIR" && cp /init "/host$STAGE2_DIR/init.sh" && cp /bin/busybox "/host$STAGE2_DIR/busybox" ||
	fail 104 "copying /init and busybox to $STAGE2_DIR failed"
exec chroot /host "$STAGE2_DIR/busybox" sh "$STAGE2_DIR/init.sh" stage2

# Station firmware (hardware/firmware/) and its rig (src/rig/): Debian's AVR toolchain to build
# the firmware, socat to put each simulated board behind a pty. The build must be reproducible:
# `make reproducible` builds twice from clean and compares the images.
if ! command -v avr-gcc >/dev/null || ! command -v socat >/dev/null || [ ! -e /usr/lib/avr/include/avr/io.h ]; then
  apt_install gcc-avr avr-libc binutils-avr socat make || return 1
fi
make -C hardware/firmware --no-print-directory reproducible || return 1

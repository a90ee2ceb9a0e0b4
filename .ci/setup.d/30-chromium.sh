# The HMI tests drive Debian's Chromium through playwright-core (test/hmi/).
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi

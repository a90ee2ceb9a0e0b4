# ROS 2 area (test/ros): no ROS 2 here. What the tests use instead of it: python3 (parses the
# launch files; relays sd_notify), systemd's systemd-analyze (verifies the unit) and cmake (the
# colcon install layout).
#
# rclnodejs is an optional dependency whose install script needs a sourced ROS 2: npm ci drops
# it here without failing, and the root postinstall (src/ros/install/restore-rclnodejs.mjs) puts
# its package files back unbuilt so that tsc type-checks src/ros/rclnodejs.ts against its types.
need=""
command -v python3 >/dev/null 2>&1 || need="$need python3"
command -v systemd-analyze >/dev/null 2>&1 || need="$need systemd"
command -v cmake >/dev/null 2>&1 || need="$need cmake"
if [ -n "$need" ]; then
  # shellcheck disable=SC2086
  apt_install $need || return 1
fi

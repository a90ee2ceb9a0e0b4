# Gazebo checks (test/gazebo), no Gazebo and no ROS 2 needed: Debian's SDFormat 12
# (libsdformat-dev; the tests compile tools/sdfcheck against it with g++ and pkg-config),
# urdfdom's check_urdf (liburdfdom-tools), protoc and the ignition-msgs definitions (the world's
# Gazebo message texts are parsed against them), and python3 (hardware/gazebo/generate.py, the
# launch file's syntax tree).
need=""
command -v g++ >/dev/null 2>&1 || need="$need g++"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
command -v check_urdf >/dev/null 2>&1 || need="$need liburdfdom-tools"
command -v protoc >/dev/null 2>&1 || need="$need protobuf-compiler"
command -v python3 >/dev/null 2>&1 || need="$need python3"
[ -d /usr/include/ignition/msgs8/ignition/msgs ] || need="$need libignition-msgs-dev"
pkg-config --exists sdformat12 2>/dev/null || need="$need libsdformat-dev"
if [ -n "$need" ]; then
  # shellcheck disable=SC2086
  apt_install $need || return 1
fi
pkg-config --exists sdformat12 || { echo "40-gazebo-checks: sdformat12 is still missing after installing libsdformat-dev"; return 1; }

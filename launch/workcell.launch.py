"""Start workcell, the cell controller, as the ROS 2 node `workcell`.

    ros2 launch workcell workcell.launch.py [cell:=FILE] [namespace:=/NS] [use_sim_time:=true|false]
                                            [sim:=none|embedded|gazebo] [params_file:=FILE] [gui:=true|false]

Arguments (each declared below with the same description; `--show-args` lists them):
  cell          Cell description YAML. Default: hardware/cells/demo.yaml, or
                hardware/cells/demo-gazebo.yaml with sim:=gazebo.
  namespace     ROS namespace of the workcell node. The operator interface's names stay absolute
                under the cell description's `cell.namespace` (/workcell/command, ...).
  use_sim_time  Motion deadlines follow /clock; heartbeats and safe-OK timeouts stay on the
                monotonic clock. Default: false (true with sim:=gazebo).
  sim           none: a real cell. embedded: workcell's own simulator drives every device, and
                stands behind the ROS interface of the cell's ros2 devices. gazebo: Gazebo, from
                launch/gazebo.launch.py (included only if it is installed).
  params_file   Parameters YAML keyed by node name. Default: launch/params/workcell.yaml.
  gui           With sim:=gazebo: show Gazebo's window (false: headless). Default: true.

The cell never starts itself: workcell waits in Stopped (or Aborted, with an e-stop source active)
for an operator Reset and Start. This file never passes --autostart.

Paths default to the files beside this launch file (../hardware, ../launch), which holds both in
the source tree and in the installed share directory (share/workcell/).
"""
from pathlib import Path

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, LogInfo, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

SHARE = Path(__file__).resolve().parent.parent
SIM_MODES = ("none", "embedded", "gazebo")
NODE_NAME = "workcell"


def _as_bool(name, text):
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no", ""):
        return False
    raise RuntimeError(f"{name}:={text} is not true or false")


def _workcell(context):
    sim = LaunchConfiguration("sim").perform(context)
    if sim not in SIM_MODES:
        raise RuntimeError(f"sim:={sim} is not one of {', '.join(SIM_MODES)}")
    cell = LaunchConfiguration("cell").perform(context) or str(
        SHARE / "hardware" / "cells" / ("demo-gazebo.yaml" if sim == "gazebo" else "demo.yaml")
    )
    use_sim_time_text = LaunchConfiguration("use_sim_time").perform(context)
    use_sim_time = _as_bool("use_sim_time", use_sim_time_text) if use_sim_time_text else sim == "gazebo"
    params_file = LaunchConfiguration("params_file").perform(context) or str(SHARE / "launch" / "params" / "workcell.yaml")
    namespace = LaunchConfiguration("namespace").perform(context)

    actions = []
    if sim == "gazebo":
        gazebo = SHARE / "launch" / "gazebo.launch.py"
        if gazebo.exists():
            actions.append(
                IncludeLaunchDescription(
                    PythonLaunchDescriptionSource(str(gazebo)),
                    launch_arguments={"gui": LaunchConfiguration("gui").perform(context)}.items(),
                )
            )
        else:
            actions.append(LogInfo(msg=f"sim:=gazebo: {gazebo} is not installed; start Gazebo and its bridge yourself"))

    # `workcell run` waits for the operator: no --autostart, ever.
    arguments = ["run", "--cell", cell, "--ros"]
    if sim == "embedded":
        arguments.append("--sim")
    actions.append(
        Node(
            package="workcell",
            executable="workcell",
            name=NODE_NAME,
            namespace=namespace,
            arguments=arguments,
            # use_sim_time as a ROS parameter: the node reads it (and rclnodejs's own clock follows it).
            parameters=[params_file, {"use_sim_time": use_sim_time}],
            # ...and as `-p` too: rclnodejs 2.2 does not apply --params-file (checked on Jazzy: a
            # file's use_sim_time: true left the node on the wall clock); `-p` it does.
            ros_arguments=["-p", f"use_sim_time:={'true' if use_sim_time else 'false'}"],
            output="screen",
            # No pseudo-terminal: on a tty `workcell run` redraws a status line with \r every 300 ms
            # and no newline, which launch holds as one ever-growing line until the node exits.
            emulate_tty=False,
        )
    )
    return actions


def generate_launch_description():
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "cell",
                default_value="",
                description="Cell description YAML. Default: hardware/cells/demo.yaml, or hardware/cells/demo-gazebo.yaml with sim:=gazebo.",
            ),
            DeclareLaunchArgument(
                "namespace",
                default_value="",
                description="ROS namespace of the workcell node; the operator interface's names stay absolute under the cell's cell.namespace.",
            ),
            DeclareLaunchArgument(
                "use_sim_time",
                default_value="",
                description="true: motion deadlines follow /clock (heartbeats and safe-OK timeouts stay on the monotonic clock). Default: false, true with sim:=gazebo.",
            ),
            DeclareLaunchArgument(
                "sim",
                default_value="none",
                choices=["none", "embedded", "gazebo"],
                description="none: a real cell; embedded: workcell's own simulator, also behind the ROS interface of ros2 devices; gazebo: Gazebo via launch/gazebo.launch.py.",
            ),
            DeclareLaunchArgument(
                "params_file",
                default_value="",
                description="Parameters YAML keyed by node name. Default: launch/params/workcell.yaml.",
            ),
            DeclareLaunchArgument(
                "gui",
                default_value="true",
                description="With sim:=gazebo: true shows Gazebo's window, false runs it headless.",
            ),
            OpaqueFunction(function=_workcell),
        ]
    )

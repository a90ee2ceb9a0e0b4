"""The Gazebo part of `ros2 launch workcell workcell.launch.py sim:=gazebo`.

Starts Gazebo Harmonic (gz sim) with the demo cell's world, spawns the arm from its URDF, bridges
the cell's topics and Gazebo's clock to ROS 2 (ros_gz_bridge), and activates the arm's controllers
(joint_state_broadcaster, then arm_controller: the FollowJointTrajectory action workcell drives).
It does not start workcell: launch/workcell.launch.py includes this file when sim:=gazebo and
starts workcell itself with use_sim_time and hardware/cells/demo-gazebo.yaml.

Launch arguments (all optional; every one is declared below with the same description):
  world             SDF world to load.
                    Default: hardware/gazebo/worlds/demo_cell.sdf
  robot_description URDF of the arm, spawned into the world as `workcell_arm`.
                    Default: hardware/gazebo/urdf/workcell_arm.urdf
  controllers       ros2_control parameters for gz_ros2_control (replaces the URDF's
                    @WORKCELL_ARM_CONTROLLERS@ placeholder).
                    Default: hardware/gazebo/config/arm_controllers.yaml
  bridge_config     ros_gz_bridge YAML. Default: hardware/gazebo/config/bridge.yaml
  bridge_qos        ROS parameters of the bridge node: QoS overrides that make the bridged inputs
                    transient_local, as workcell subscribes to them.
                    Default: hardware/gazebo/config/bridge_qos.yaml
  gui               true: Gazebo with its GUI; false: the server only (headless, e.g. on CI).
                    Default: true

Every node here runs with use_sim_time:=true. Paths default to the files beside this launch file
(../hardware/gazebo/), which holds both in the source tree and in the installed share directory.

Requires ROS 2 Jazzy with ros_gz_sim, ros_gz_bridge, gz_ros2_control, robot_state_publisher,
controller_manager, joint_state_broadcaster and joint_trajectory_controller (Debian/Ubuntu
packages ros-jazzy-ros-gz, ros-jazzy-gz-ros2-control, ros-jazzy-ros2-controllers).
"""
from pathlib import Path

from launch import LaunchDescription
from launch.actions import (
    DeclareLaunchArgument,
    ExecuteProcess,
    IncludeLaunchDescription,
    OpaqueFunction,
    RegisterEventHandler,
)
from launch.event_handlers import OnProcessExit
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PythonExpression
from launch_ros.actions import Node
from ament_index_python.packages import get_package_share_directory

GAZEBO_DIR = Path(__file__).resolve().parent.parent / "hardware" / "gazebo"
CONTROLLERS_PLACEHOLDER = "@WORKCELL_ARM_CONTROLLERS@"


def _nodes(context):
    """Everything that needs the arguments' values (the URDF text is read and filled in here)."""
    urdf_path = Path(LaunchConfiguration("robot_description").perform(context))
    controllers = Path(LaunchConfiguration("controllers").perform(context)).resolve()
    bridge_config = Path(LaunchConfiguration("bridge_config").perform(context)).resolve()
    bridge_qos = Path(LaunchConfiguration("bridge_qos").perform(context)).resolve()
    for what, path in (("robot_description", urdf_path), ("controllers", controllers), ("bridge_config", bridge_config), ("bridge_qos", bridge_qos)):
        if not path.is_file():
            raise RuntimeError(f"gazebo.launch.py: {what}:={path} is not a file")
    urdf = urdf_path.read_text()
    if CONTROLLERS_PLACEHOLDER not in urdf:
        raise RuntimeError(f"gazebo.launch.py: {urdf_path} has no {CONTROLLERS_PLACEHOLDER} placeholder for the controllers file")
    robot_description = urdf.replace(CONTROLLERS_PLACEHOLDER, str(controllers))

    state_publisher = Node(
        package="robot_state_publisher",
        executable="robot_state_publisher",
        parameters=[{"robot_description": robot_description, "use_sim_time": True}],
        output="screen",
    )
    spawn_arm = Node(
        package="ros_gz_sim",
        executable="create",
        arguments=["-topic", "robot_description", "-name", "workcell_arm"],
        output="screen",
    )
    bridge = Node(
        package="ros_gz_bridge",
        executable="parameter_bridge",
        parameters=[str(bridge_qos), {"config_file": str(bridge_config), "use_sim_time": True}],
        output="screen",
    )
    joint_state_broadcaster = Node(
        package="controller_manager",
        executable="spawner",
        arguments=["joint_state_broadcaster", "--controller-manager", "/controller_manager"],
        parameters=[{"use_sim_time": True}],
        output="screen",
    )
    arm_controller = Node(
        package="controller_manager",
        executable="spawner",
        arguments=["arm_controller", "--controller-manager", "/controller_manager"],
        parameters=[{"use_sim_time": True}],
        output="screen",
    )
    # DetachableJoint attaches its child when it starts, so every part starts held by the cup:
    # once the arm's controllers run, switch the vacuum off once, which releases them all.
    release_parts = ExecuteProcess(
        cmd=["gz", "topic", "-t", "/gripper/vacuum", "-m", "gz.msgs.Boolean", "-p", "data: false"],
        output="screen",
    )
    return [
        state_publisher,
        spawn_arm,
        bridge,
        RegisterEventHandler(OnProcessExit(target_action=spawn_arm, on_exit=[joint_state_broadcaster])),
        RegisterEventHandler(OnProcessExit(target_action=joint_state_broadcaster, on_exit=[arm_controller])),
        RegisterEventHandler(OnProcessExit(target_action=arm_controller, on_exit=[release_parts])),
    ]


def generate_launch_description():
    arguments = [
        DeclareLaunchArgument(
            "world",
            default_value=str(GAZEBO_DIR / "worlds" / "demo_cell.sdf"),
            description="SDF world to load",
        ),
        DeclareLaunchArgument(
            "robot_description",
            default_value=str(GAZEBO_DIR / "urdf" / "workcell_arm.urdf"),
            description="URDF of the arm, spawned into the world as workcell_arm",
        ),
        DeclareLaunchArgument(
            "controllers",
            default_value=str(GAZEBO_DIR / "config" / "arm_controllers.yaml"),
            description="ros2_control parameters for gz_ros2_control",
        ),
        DeclareLaunchArgument(
            "bridge_config",
            default_value=str(GAZEBO_DIR / "config" / "bridge.yaml"),
            description="ros_gz_bridge YAML",
        ),
        DeclareLaunchArgument(
            "bridge_qos",
            default_value=str(GAZEBO_DIR / "config" / "bridge_qos.yaml"),
            description="ROS parameters of the bridge node: QoS overrides for the bridged inputs",
        ),
        DeclareLaunchArgument(
            "gui",
            default_value="true",
            choices=["true", "false"],
            description="true: Gazebo with its GUI; false: the server only (headless)",
        ),
    ]
    # -r: run at once; -s: server only, when gui is false. on_exit_shutdown: closing Gazebo ends the launch.
    gz_args = PythonExpression(["'-r ' + ('' if '", LaunchConfiguration("gui"), "' == 'true' else '-s ') + '", LaunchConfiguration("world"), "'"])
    gazebo = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(Path(get_package_share_directory("ros_gz_sim")) / "launch" / "gz_sim.launch.py")),
        launch_arguments={"gz_args": gz_args, "on_exit_shutdown": "true"}.items(),
    )
    return LaunchDescription([*arguments, gazebo, OpaqueFunction(function=_nodes)])

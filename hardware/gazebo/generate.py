#!/usr/bin/env python3
"""Writes the Gazebo files of the demo cell: urdf/workcell_arm.urdf and worlds/demo_cell.sdf.

The files are committed; this script is how they are changed (the part count, the layout), since
both repeat blocks per part: one DetachableJoint per part in the arm, one TouchPlugin, performer and
TriggeredPublisher set per part in the world. `test/gazebo` checks that the committed files are
exactly what this script writes, and checks the files themselves against hardware/cells/demo.yaml.

    python3 hardware/gazebo/generate.py          # rewrite both files
    python3 hardware/gazebo/generate.py --check  # exit 1 if a committed file differs

Plain Python 3, no packages: SDFormat 1.9 for Debian's SDFormat 12 and Gazebo Harmonic.
"""
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# ----------------------------------------------------------------------------------------------
# Layout (metres, radians, world frame). The arm base stands on a pedestal at the origin; the
# numbers below are where demo.yaml's `pick` and `place` poses put the tool tip (see the URDF
# comment), so the part at the feeder's nest and the place point on the belt are under it.

PARTS = 8                      # parts in the feeder's magazine
PART_SIZE = (0.04, 0.04, 0.03)
PART_MASS = 0.05
WORK_SURFACE_Z = 0.73          # top of the feeder's floor plate and of the belt
PEDESTAL_HEIGHT = 0.60

# Feeder: nest (pick position) on the floor plate, x axis pointing away from the arm.
FEEDER_XY = (0.3066, -0.2098)
FEEDER_YAW = -0.6
MAGAZINE_X = 0.09              # magazine (tube) centre, feeder frame, behind the nest
TUBE_INNER = 0.046             # inner width of the tube: 3 mm clearance around a part
WALL = 0.005
TUBE_HEIGHT = 0.27
FEEDER_PUSHER_LENGTH = 0.11
FEEDER_PUSHER_HEIGHT = 0.028
FEEDER_PUSHER_REST = MAGAZINE_X + PART_SIZE[0] / 2 + 0.0005      # pusher face at rest
FEEDER_STROKE = FEEDER_PUSHER_REST - PART_SIZE[0] / 2            # leaves the part centred on the nest
# m/s; a stroke takes about 0.8 s. The pusher stops dead at the end of its stroke and the part
# slides on by v^2 / (2 mu g), about 1 mm at this speed (4 mm at 0.2 m/s, most of the sensor window).
PUSHER_SPEED = 0.1
FEEDER_RETRACT_MS = 1000       # a release pulse runs one cycle: out, wait, back; within feed_ms 1200

# Conveyor: belt along +x; place_position_mm 100, exit_position_mm 400, length_mm 450.
BELT_LENGTH = 0.45
BELT_WIDTH = 0.10
BELT_THICKNESS = 0.10
BELT_UPSTREAM_X = 0.1309
BELT_Y = 0.2910
PLACE_MM = 100
EXIT_MM = 400
INDEX_MM = 300
SENSOR_WINDOW_MM = 5
MAX_SPEED = 0.4                # max_speed_mm_s 400
MAX_ACCEL = 1.6                # accel_mm_s2 1600
HOME_MARKS = 21                # a home mark every index_mm for the first 6 m of belt travel
HOME_MARK_HALF_WIDTH = 0.001
ODOMETRY_HZ = 250

# Takeaway: the downstream, a pusher that clears the exit into a bin takeaway_ms after a part arrives.
TAKEAWAY_MS = 500
TAKEAWAY_RETRACT_MS = 1500
TAKEAWAY_STROKE = 0.14
TAKEAWAY_SPEED = 0.4

WORLD = "demo_cell"


def fmt(*values):
    return " ".join(("%.6f" % v).rstrip("0").rstrip(".") if v != 0 else "0" for v in values)


def box_inertia(m, x, y, z):
    return (m * (y * y + z * z) / 12, m * (x * x + z * z) / 12, m * (x * x + y * y) / 12)


def cylinder_inertia(m, r, length, axis):
    a = m * r * r / 2
    b = m * (3 * r * r + length * length) / 12
    return (a, b, b) if axis == "x" else (b, b, a)


# ----------------------------------------------------------------------------------------------
# The arm (URDF)

JOINTS = [
    # name, parent, child, origin xyz, axis, lower, upper, velocity, effort (limits from demo.yaml)
    ("joint_1", "base_link", "link_1", (0, 0, 0.10), (0, 0, 1), -3.14, 3.14, 1.0, 150),
    ("joint_2", "link_1", "link_2", (0, 0, 0.15), (0, 1, 0), -2.0, 2.0, 1.0, 150),
    ("joint_3", "link_2", "link_3", (0.30, 0, 0), (0, 1, 0), -2.5, 2.5, 1.0, 80),
    ("joint_4", "link_3", "link_4", (0.10, 0, 0), (1, 0, 0), -3.14, 3.14, 1.5, 30),
    ("joint_5", "link_4", "link_5", (0.104, 0, 0), (0, 1, 0), -2.0, 2.0, 1.5, 30),
    ("joint_6", "link_5", "link_6", (0.05, 0, 0), (1, 0, 0), -3.14, 3.14, 1.5, 20),
]


def urdf_link(name, geometry, xyz, rpy, mass, inertia, material):
    return f"""  <link name="{name}">
    <visual>
      <origin xyz="{fmt(*xyz)}" rpy="{fmt(*rpy)}"/>
      <geometry>{geometry}</geometry>
      <material name="{material}"/>
    </visual>
    <collision>
      <origin xyz="{fmt(*xyz)}" rpy="{fmt(*rpy)}"/>
      <geometry>{geometry}</geometry>
    </collision>
    <inertial>
      <origin xyz="{fmt(*xyz)}" rpy="0 0 0"/>
      <mass value="{fmt(mass)}"/>
      <inertia ixx="{inertia[0]:.6g}" ixy="0" ixz="0" iyy="{inertia[1]:.6g}" iyz="0" izz="{inertia[2]:.6g}"/>
    </inertial>
  </link>"""


def arm_urdf():
    half_pi = math.pi / 2
    links = [
        urdf_link("base_link", '<cylinder radius="0.08" length="0.1"/>', (0, 0, 0.05), (0, 0, 0), 4.0, cylinder_inertia(4.0, 0.08, 0.10, "z"), "grey"),
        urdf_link("link_1", '<cylinder radius="0.07" length="0.15"/>', (0, 0, 0.075), (0, 0, 0), 3.0, cylinder_inertia(3.0, 0.07, 0.15, "z"), "orange"),
        urdf_link("link_2", '<box size="0.3 0.06 0.06"/>', (0.15, 0, 0), (0, 0, 0), 2.5, box_inertia(2.5, 0.30, 0.06, 0.06), "orange"),
        urdf_link("link_3", '<box size="0.1 0.05 0.05"/>', (0.05, 0, 0), (0, 0, 0), 1.2, box_inertia(1.2, 0.10, 0.05, 0.05), "orange"),
        urdf_link("link_4", '<box size="0.104 0.045 0.045"/>', (0.052, 0, 0), (0, 0, 0), 1.0, box_inertia(1.0, 0.104, 0.045, 0.045), "orange"),
        urdf_link("link_5", '<box size="0.05 0.04 0.04"/>', (0.025, 0, 0), (0, 0, 0), 0.5, box_inertia(0.5, 0.05, 0.04, 0.04), "grey"),
        urdf_link("link_6", '<cylinder radius="0.03" length="0.01"/>', (0.005, 0, 0), (0, half_pi, 0), 0.1, cylinder_inertia(0.1, 0.03, 0.01, "x"), "grey"),
        urdf_link("vacuum_cup", '<cylinder radius="0.012" length="0.04"/>', (0.02, 0, 0), (0, half_pi, 0), 0.05, cylinder_inertia(0.05, 0.012, 0.04, "x"), "black"),
    ]
    joints = "\n\n".join(
        f"""  <joint name="{name}" type="revolute">
    <parent link="{parent}"/>
    <child link="{child}"/>
    <origin xyz="{fmt(*xyz)}" rpy="0 0 0"/>
    <axis xyz="{fmt(*axis)}"/>
    <limit lower="{lower}" upper="{upper}" velocity="{velocity}" effort="{effort}"/>
    <dynamics damping="1.0" friction="0.0"/>
  </joint>"""
        for (name, parent, child, xyz, axis, lower, upper, velocity, effort) in JOINTS
    )
    ros2_control = "\n".join(
        f"""    <joint name="{joint[0]}">
      <command_interface name="position"/>
      <state_interface name="position"/>
      <state_interface name="velocity"/>
    </joint>"""
        for joint in JOINTS
    )
    detachable = "\n".join(
        f"""    <plugin filename="gz-sim-detachable-joint-system" name="gz::sim::systems::DetachableJoint">
      <parent_link>vacuum_cup</parent_link>
      <child_model>part_{k}</child_model>
      <child_link>body</child_link>
      <attach_topic>/gripper/part_{k}/attach</attach_topic>
      <detach_topic>/gripper/part_{k}/detach</detach_topic>
      <output_topic>/gripper/part_{k}/state</output_topic>
    </plugin>"""
        for k in range(1, PARTS + 1)
    )
    link_text = "\n\n".join(links)
    return f"""<?xml version="1.0"?>
<!--
  GENERATED by hardware/gazebo/generate.py: edit that script, then run it.

  workcell demo arm: a 6-axis arm with a vacuum cup, in plain URDF (no xacro), for the Gazebo
  world hardware/gazebo/worlds/demo_cell.sdf. Joint names, limits and speeds are those of
  hardware/cells/demo.yaml (devices.arm.joints); the link lengths are chosen so that the named
  poses of demo.yaml reach the cell: the tool tip is on the part at the feeder's nest at `pick`
  and on the conveyor's place position at `place` (test/gazebo checks this by forward kinematics
  through SDFormat's own URDF parser, within 5 mm).

  Geometry at zero joint angles: joint_1 (yaw, z) 0.10 m above the base; joint_2 (shoulder pitch,
  y) 0.15 m above joint_1; upper arm 0.30 m along +x to joint_3 (elbow pitch, y); forearm 0.204 m
  along +x (joint_4, forearm roll about x, 0.10 m from the elbow) to joint_5 (wrist pitch, y);
  joint_6 (tool roll, x) 0.05 m further; flange 0.01 m, then the 0.04 m vacuum cup, whose rim
  centre is the tool tip (link tool_tip). A positive pitch lowers the forward-pointing link after it.

  The base stands on the world's pedestal, 0.60 m above the floor at the world origin: the `world`
  link fixes it there, so Gazebo spawns this model at the origin.

  Gazebo: gz_ros2_control drives the six joints (position commands), and one DetachableJoint per
  part model (part_1 ... part_{PARTS}) lets the vacuum cup hold a
  part: the world attaches a part when the vacuum is on and the cup touches it. The controller
  configuration path is the placeholder @WORKCELL_ARM_CONTROLLERS@, which launch/gazebo.launch.py
  replaces with the absolute path of hardware/gazebo/config/arm_controllers.yaml (plain URDF has
  no $(find ...)).

  The arm starts at zero joint angles, stretched out above the cell and clear of it; workcell's
  Resetting brings it home. No initial_value is given on purpose: DetachableJoint attaches every
  part to the cup when the arm appears, and resetting the joints to another pose at that moment
  would drag the attached parts out of the magazine before the launch file releases them.
-->
<robot name="workcell_arm">
  <material name="grey"><color rgba="0.5 0.5 0.55 1"/></material>
  <material name="orange"><color rgba="0.95 0.5 0.1 1"/></material>
  <material name="black"><color rgba="0.1 0.1 0.1 1"/></material>

  <link name="world"/>
  <joint name="world_to_base" type="fixed">
    <parent link="world"/>
    <child link="base_link"/>
    <origin xyz="0 0 {fmt(PEDESTAL_HEIGHT)}" rpy="0 0 0"/>
  </joint>

{link_text}

  <!-- The centre of the cup's rim: the point that touches a part. -->
  <link name="tool_tip"/>

{joints}

  <joint name="flange_to_cup" type="fixed">
    <parent link="link_6"/>
    <child link="vacuum_cup"/>
    <origin xyz="0.01 0 0" rpy="0 0 0"/>
  </joint>

  <joint name="cup_to_tip" type="fixed">
    <parent link="vacuum_cup"/>
    <child link="tool_tip"/>
    <origin xyz="0.04 0 0" rpy="0 0 0"/>
  </joint>

  <ros2_control name="GazeboSimSystem" type="system">
    <hardware>
      <plugin>gz_ros2_control/GazeboSimSystem</plugin>
    </hardware>
{ros2_control}
  </ros2_control>

  <!-- Keep the cup a link of its own in Gazebo: the DetachableJoints name it as their parent. -->
  <gazebo reference="flange_to_cup">
    <preserveFixedJoint>true</preserveFixedJoint>
  </gazebo>

  <gazebo>
    <plugin filename="gz_ros2_control-system" name="gz_ros2_control::GazeboSimROS2ControlPlugin">
      <parameters>@WORKCELL_ARM_CONTROLLERS@</parameters>
    </plugin>
{detachable}
  </gazebo>
</robot>
"""


# ----------------------------------------------------------------------------------------------
# The world (SDF)

def inertial(mass, inertia):
    return f"""<inertial>
          <mass>{fmt(mass)}</mass>
          <inertia><ixx>{inertia[0]:.6g}</ixx><ixy>0</ixy><ixz>0</ixz><iyy>{inertia[1]:.6g}</iyy><iyz>0</iyz><izz>{inertia[2]:.6g}</izz></inertia>
        </inertial>"""


def material(r, g, b):
    return f"<material><ambient>{fmt(r, g, b)} 1</ambient><diffuse>{fmt(r, g, b)} 1</diffuse></material>"


def box_shape(name, size, pose, color, collide=True, surface=""):
    visual = f"""        <visual name="{name}_visual">
          <pose>{fmt(*pose)}</pose>
          <geometry><box><size>{fmt(*size)}</size></box></geometry>
          {material(*color)}
        </visual>"""
    if not collide:
        return visual
    return visual + f"""
        <collision name="{name}">
          <pose>{fmt(*pose)}</pose>
          <geometry><box><size>{fmt(*size)}</size></box></geometry>{surface}
        </collision>"""


def triggered(input_type, input_topic, matches, outputs=(), services=(), delay_ms=0, comment=""):
    """A TriggeredPublisher: matches are (field or None, value, extra attributes)."""
    lines = []
    if comment:
        lines.append(f"    <!-- {comment} -->")
    lines.append('    <plugin filename="gz-sim-triggered-publisher-system" name="gz::sim::systems::TriggeredPublisher">')
    if matches:
        lines.append(f'      <input type="{input_type}" topic="{input_topic}">')
        for field, value, attrs in matches:
            field_attr = f' field="{field}"' if field else ""
            lines.append(f"        <match{field_attr}{attrs}>{value}</match>")
        lines.append("      </input>")
    else:
        lines.append(f'      <input type="{input_type}" topic="{input_topic}"/>')
    if delay_ms:
        lines.append(f"      <delay_ms>{delay_ms}</delay_ms>")
    for out_type, out_topic, body in outputs:
        lines.append(f'      <output type="{out_type}" topic="{out_topic}">{body}</output>')
    for name, req_type, rep_type, req in services:
        lines.append(f'      <service name="{name}" reqType="{req_type}" repType="{rep_type}" timeout="3000" reqMsg="{req}"/>')
    lines.append("    </plugin>")
    return "\n".join(lines)


def presence(detector_topic, sensor_topic):
    """A Bool that is true while a part is in a PerformerDetector's region."""
    return "\n".join([
        triggered("gz.msgs.Pose", detector_topic, [("header.data", '{ key: "state" value: "1" }', "")],
                  outputs=[("gz.msgs.Boolean", sensor_topic, "data: true")],
                  comment=f"{sensor_topic}: true when a part enters the region, false when the last one leaves"),
        triggered("gz.msgs.Pose", detector_topic, [("header.data", '{ key: "count" value: "0" }', "")],
                  outputs=[("gz.msgs.Boolean", sensor_topic, "data: false")]),
    ])


def world_sdf():
    part_x, part_y, part_z = PART_SIZE
    belt_center_x = BELT_UPSTREAM_X + BELT_LENGTH / 2
    belt_center_z = WORK_SURFACE_Z - BELT_THICKNESS / 2
    exit_offset_x = EXIT_MM / 1000 - BELT_LENGTH / 2
    window = 2 * SENSOR_WINDOW_MM / 1000
    performer = 0.001  # parts are detected by their centre: the sensor windows are the regions

    # -- parts, stacked in the magazine
    parts = []
    for k in range(1, PARTS + 1):
        z = part_z / 2 + 0.0005 + (k - 1) * (part_z + 0.0005)
        parts.append(f"""    <model name="part_{k}">
      <pose relative_to="feeder">{fmt(MAGAZINE_X, 0, z, 0, 0, 0)}</pose>
      <link name="body">
        {inertial(PART_MASS, box_inertia(PART_MASS, *PART_SIZE))}
{box_shape("collision", PART_SIZE, (0, 0, 0, 0, 0, 0), (0.2, 0.4, 0.9), surface='''
          <surface><friction><ode><mu>0.6</mu><mu2>0.6</mu2></ode></friction></surface>''')}
        <sensor name="contact" type="contact">
          <contact><collision>collision</collision></contact>
        </sensor>
      </link>
      <!-- Touching the vacuum cup while the vacuum is on attaches this part (see the world's gripper logic). -->
      <plugin filename="gz-sim-touchplugin-system" name="gz::sim::systems::TouchPlugin">
        <target>vacuum_cup</target>
        <namespace>gripper/part_{k}/touch</namespace>
        <time>0.02</time>
        <enabled>false</enabled>
      </plugin>
    </model>""")

    performers = "\n".join(
        f"""      <performer name="part_{k}_performer">
        <ref>part_{k}</ref>
        <geometry><box><size>{fmt(performer, performer, performer)}</size></box></geometry>
      </performer>"""
        for k in range(1, PARTS + 1)
    )

    # -- gripper logic: vacuum on arms every part's touch sensor; the part the cup touches is
    #    attached; vacuum off detaches every part and disarms the sensors; vacuum_ok follows the
    #    attachment state.
    enable = lambda on: [(f"/gripper/part_{k}/touch/enable", "gz.msgs.Boolean", "gz.msgs.Empty", f"data: {'true' if on else 'false'}") for k in range(1, PARTS + 1)]
    gripper = [
        triggered("gz.msgs.Boolean", "/gripper/vacuum", [(None, "data: true", "")], services=enable(True),
                  comment="vacuum on: arm every part's touch sensor"),
        triggered("gz.msgs.Boolean", "/gripper/vacuum", [(None, "data: false", "")],
                  outputs=[("gz.msgs.Empty", f"/gripper/part_{k}/detach", "") for k in range(1, PARTS + 1)],
                  services=enable(False), comment="vacuum off: release whatever is held, disarm the touch sensors"),
    ]
    for k in range(1, PARTS + 1):
        gripper.append(triggered("gz.msgs.Boolean", f"/gripper/part_{k}/touch/touched", [], outputs=[("gz.msgs.Empty", f"/gripper/part_{k}/attach", "")],
                                 comment=f"part_{k} touched by the cup with the vacuum on: hold it"))
        gripper.append(triggered("gz.msgs.StringMsg", f"/gripper/part_{k}/state", [(None, 'data: "attached"', "")], outputs=[("gz.msgs.Boolean", "/gripper/vacuum_ok", "data: true")]))
        gripper.append(triggered("gz.msgs.StringMsg", f"/gripper/part_{k}/state", [(None, 'data: "detached"', "")], outputs=[("gz.msgs.Boolean", "/gripper/vacuum_ok", "data: false")]))

    # -- safety inputs: no e-stop chain or guard door exists in the simulation; both read healthy
    #    at the world statistics rate (10 Hz) while the simulation runs.
    safety = triggered("gz.msgs.WorldStatistics", f"/world/{WORLD}/stats", [],
                       outputs=[("gz.msgs.Boolean", "/safety/estop_ok", "data: true"), ("gz.msgs.Boolean", "/safety/guard_closed", "data: true")],
                       comment="simulated e-stop chain and guard door: healthy while the simulation runs")

    # -- stack light: the lamp outputs recolour the lamps' visuals
    def lamp(topic, link, on, off):
        req = lambda color: f'name: &quot;lens&quot; parent_name: &quot;{link}&quot; material {{ diffuse {{ r: {color[0]} g: {color[1]} b: {color[2]} a: 1 }} emissive {{ r: {color[0]} g: {color[1]} b: {color[2]} a: 1 }} }}'
        return "\n".join([
            triggered("gz.msgs.Boolean", topic, [(None, "data: true", "")], services=[(f"/world/{WORLD}/visual_config", "gz.msgs.Visual", "gz.msgs.Boolean", req(on))],
                      comment=f"{topic}: lamp {link}"),
            triggered("gz.msgs.Boolean", topic, [(None, "data: false", "")], services=[(f"/world/{WORLD}/visual_config", "gz.msgs.Visual", "gz.msgs.Boolean", req(off))]),
        ])

    # -- conveyor home marks, every index_mm of belt travel, read from the belt odometry
    marks = [round(i * INDEX_MM / 1000, 6) for i in range(HOME_MARKS)]
    home = [triggered("gz.msgs.Odometry", "/conveyor/odometry", [("pose.position.x", fmt(m), f' tol="{HOME_MARK_HALF_WIDTH}"')],
                      outputs=[("gz.msgs.Boolean", "/conveyor/home", "data: true")],
                      comment="home mark at belt travel %s m" % fmt(m)) for m in marks]
    home.append(triggered("gz.msgs.Odometry", "/conveyor/odometry",
                          [("pose.position.x", fmt(m), f' logic_type="negative" tol="{HOME_MARK_HALF_WIDTH}"') for m in marks],
                          outputs=[("gz.msgs.Boolean", "/conveyor/home", "data: false")], comment="no home mark at the sensor"))

    feeder_floor = FEEDER_PUSHER_REST + FEEDER_PUSHER_LENGTH + 0.01
    tube_front = MAGAZINE_X - TUBE_INNER / 2 - WALL / 2
    tube_back = MAGAZINE_X + TUBE_INNER / 2 + WALL / 2
    wall_gap = part_z + 0.002       # front and back walls stop above the bottom part
    wall_len = TUBE_INNER + 2 * WALL
    side_y = TUBE_INNER / 2 + WALL / 2

    nl = "\n"
    return f"""<?xml version="1.0" ?>
<!--
  GENERATED by hardware/gazebo/generate.py: edit that script, then run it.

  The workcell demo cell (hardware/cells/demo.yaml) as a Gazebo Harmonic world, SDFormat 1.9.
  Started by launch/gazebo.launch.py, which spawns the arm (hardware/gazebo/urdf/workcell_arm.urdf)
  and bridges the topics of hardware/gazebo/config/bridge.yaml. World frame: metres, z up, the arm
  base on a {fmt(PEDESTAL_HEIGHT)} m pedestal at the origin; feeder nest and belt top at z = {fmt(WORK_SURFACE_Z)}.

  Stations and their topics (Gazebo transport; the bridge maps them 1:1 to ROS 2):
  - feeder: a gravity magazine of {PARTS} parts with a pusher. Each rising edge on /feeder/release
    (Boolean) runs one pusher cycle: out {fmt(FEEDER_STROKE * 1000)} mm at {fmt(PUSHER_SPEED)} m/s, which slides the
    bottom part onto the nest (the pick position), then back after {FEEDER_RETRACT_MS} ms so the stack drops.
    /feeder/part_at_pick (Boolean): a PerformerDetector around the nest.
  - conveyor: a belt driven like gz-sim's conveyor example (TrackController): /conveyor/belt_speed
    (Double, m/s, limited to {fmt(MAX_SPEED)} m/s and {fmt(MAX_ACCEL)} m/s^2), /conveyor/odometry (Odometry:
    pose.position.x is the belt travel, the encoder), /conveyor/home (Boolean, a mark every
    {INDEX_MM} mm of travel for the first {HOME_MARKS} marks), /conveyor/part_at_exit (Boolean, a
    PerformerDetector {EXIT_MM} mm along the belt). A takeaway pusher clears the exit into a bin
    {TAKEAWAY_MS} ms after a part arrives (the downstream of demo.yaml's takeaway_ms).
  - gripper: /gripper/vacuum (Boolean) and /gripper/vacuum_ok (Boolean). Vacuum on arms a
    TouchPlugin in every part; the part touching the cup is attached to it by its DetachableJoint
    (in the arm); vacuum off detaches. vacuum_ok follows the attachment.
  - safety: /safety/estop_ok and /safety/guard_closed read true at 10 Hz while the simulation runs
    (there is no e-stop chain in a simulation); /stack_light/red and /stack_light/green recolour
    the stack light.
  Parts are performers (see the gz::sim plugin below) so the detectors can see them.
-->
<sdf version="1.9">
  <world name="{WORLD}">
    <physics name="1ms" type="ode">
      <max_step_size>0.001</max_step_size>
      <real_time_factor>1.0</real_time_factor>
    </physics>
    <plugin filename="gz-sim-physics-system" name="gz::sim::systems::Physics"/>
    <plugin filename="gz-sim-user-commands-system" name="gz::sim::systems::UserCommands"/>
    <plugin filename="gz-sim-scene-broadcaster-system" name="gz::sim::systems::SceneBroadcaster"/>
    <plugin filename="gz-sim-contact-system" name="gz::sim::systems::Contact"/>

    <!-- Parts are performers, so the PerformerDetectors (part sensors) see them. -->
    <plugin filename="dummy" name="gz::sim">
{performers}
    </plugin>

    <light type="directional" name="sun">
      <cast_shadows>true</cast_shadows>
      <pose>0 0 10 0 0 0</pose>
      <diffuse>0.9 0.9 0.9 1</diffuse>
      <specular>0.3 0.3 0.3 1</specular>
      <direction>-0.5 0.2 -0.9</direction>
    </light>

    <model name="ground_plane">
      <static>true</static>
      <link name="link">
        <collision name="collision"><geometry><plane><normal>0 0 1</normal><size>10 10</size></plane></geometry></collision>
        <visual name="visual"><geometry><plane><normal>0 0 1</normal><size>10 10</size></plane></geometry>{material(0.7, 0.7, 0.7)}</visual>
      </link>
    </model>

    <model name="pedestal">
      <static>true</static>
      <pose>0 0 {fmt(PEDESTAL_HEIGHT / 2)} 0 0 0</pose>
      <link name="link">
{box_shape("collision", (0.25, 0.25, PEDESTAL_HEIGHT), (0, 0, 0, 0, 0, 0), (0.3, 0.3, 0.35))}
      </link>
    </model>

    <!-- Feeder. Frame: origin on the floor plate at the nest centre, x away from the arm. -->
    <model name="feeder">
      <pose>{fmt(FEEDER_XY[0], FEEDER_XY[1], WORK_SURFACE_Z, 0, 0, FEEDER_YAW)}</pose>
      <link name="base">
        {inertial(5.0, box_inertia(5.0, 0.3, 0.1, 0.3))}
{box_shape("floor_plate", (feeder_floor + 0.04, 0.10, 0.02), ((feeder_floor - 0.04) / 2, 0, -0.01, 0, 0, 0), (0.5, 0.5, 0.5), surface='''
          <surface><friction><ode><mu>0.5</mu><mu2>0.5</mu2></ode></friction></surface>''')}
{box_shape("tube_left", (wall_len, WALL, TUBE_HEIGHT), (MAGAZINE_X, side_y, TUBE_HEIGHT / 2, 0, 0, 0), (0.6, 0.6, 0.7))}
{box_shape("tube_right", (wall_len, WALL, TUBE_HEIGHT), (MAGAZINE_X, -side_y, TUBE_HEIGHT / 2, 0, 0, 0), (0.6, 0.6, 0.7))}
{box_shape("tube_front", (WALL, TUBE_INNER, TUBE_HEIGHT - wall_gap), (tube_front, 0, wall_gap + (TUBE_HEIGHT - wall_gap) / 2, 0, 0, 0), (0.6, 0.6, 0.7))}
{box_shape("tube_back", (WALL, TUBE_INNER, TUBE_HEIGHT - wall_gap), (tube_back, 0, wall_gap + (TUBE_HEIGHT - wall_gap) / 2, 0, 0, 0), (0.6, 0.6, 0.7))}
{box_shape("nest_mark", (part_x + 0.004, part_y + 0.004, 0.0005), (0, 0, 0.00025, 0, 0, 0), (0.1, 0.7, 0.1), collide=False)}
      </link>
      <joint name="base_fixed" type="fixed">
        <parent>world</parent>
        <child>base</child>
      </joint>
      <link name="pusher">
        <pose>{fmt(FEEDER_PUSHER_REST + FEEDER_PUSHER_LENGTH / 2, 0, FEEDER_PUSHER_HEIGHT / 2 + 0.0005, 0, 0, 0)}</pose>
        {inertial(0.2, box_inertia(0.2, FEEDER_PUSHER_LENGTH, part_y, FEEDER_PUSHER_HEIGHT))}
{box_shape("pusher", (FEEDER_PUSHER_LENGTH, part_y, FEEDER_PUSHER_HEIGHT), (0, 0, 0, 0, 0, 0), (0.8, 0.2, 0.2))}
      </link>
      <joint name="pusher_joint" type="prismatic">
        <parent>base</parent>
        <child>pusher</child>
        <axis>
          <xyz>-1 0 0</xyz>
          <limit><lower>0</lower><upper>{fmt(FEEDER_STROKE + 0.005)}</upper><effort>200</effort><velocity>{fmt(PUSHER_SPEED)}</velocity></limit>
        </axis>
      </joint>
      <plugin filename="gz-sim-joint-position-controller-system" name="gz::sim::systems::JointPositionController">
        <joint_name>pusher_joint</joint_name>
        <topic>/feeder/pusher/cmd_pos</topic>
        <use_velocity_commands>true</use_velocity_commands>
        <cmd_max>{fmt(PUSHER_SPEED)}</cmd_max>
        <cmd_min>-{fmt(PUSHER_SPEED)}</cmd_min>
      </plugin>
      <plugin filename="gz-sim-performer-detector-system" name="gz::sim::systems::PerformerDetector">
        <topic>/feeder/nest_detector</topic>
        <pose>0 0 {fmt(part_z / 2)} 0 0 0</pose>
        <geometry><box><size>{fmt(window, window, 0.01)}</size></box></geometry>
      </plugin>
{triggered("gz.msgs.Boolean", "/feeder/release", [(None, "data: true", "")], outputs=[("gz.msgs.Double", "/feeder/pusher/cmd_pos", f"data: {fmt(FEEDER_STROKE)}")], comment="release: push the bottom part onto the nest")}
{triggered("gz.msgs.Boolean", "/feeder/release", [(None, "data: true", "")], outputs=[("gz.msgs.Double", "/feeder/pusher/cmd_pos", "data: 0")], delay_ms=FEEDER_RETRACT_MS, comment="... then pull the pusher back")}
{presence("/feeder/nest_detector", "/feeder/part_at_pick")}
    </model>

    <!-- Conveyor: the belt runs along +x; its upstream end is position 0 of demo.yaml. -->
    <model name="conveyor">
      <static>true</static>
      <pose>{fmt(belt_center_x, BELT_Y, belt_center_z, 0, 0, 0)}</pose>
      <link name="belt">
        {inertial(6.0, box_inertia(6.0, BELT_LENGTH, BELT_WIDTH, BELT_THICKNESS))}
{box_shape("belt", (BELT_LENGTH, BELT_WIDTH, BELT_THICKNESS), (0, 0, 0, 0, 0, 0), (0.15, 0.15, 0.15), surface='''
          <surface><friction><ode><mu>0.7</mu><mu2>150</mu2><fdir1>0 1 0</fdir1></ode></friction></surface>''')}
{box_shape("place_mark", (0.004, BELT_WIDTH, 0.0005), (PLACE_MM / 1000 - BELT_LENGTH / 2, 0, BELT_THICKNESS / 2 + 0.00025, 0, 0, 0), (0.1, 0.7, 0.1), collide=False)}
{box_shape("exit_sensor", (0.01, 0.01, 0.04), (exit_offset_x, -BELT_WIDTH / 2 - 0.01, BELT_THICKNESS / 2 + 0.02, 0, 0, 0), (0.9, 0.8, 0.1), collide=False)}
      </link>
      <plugin filename="gz-sim-track-controller-system" name="gz::sim::systems::TrackController">
        <link>belt</link>
        <velocity_topic>/conveyor/belt_speed</velocity_topic>
        <odometry_topic>/conveyor/odometry</odometry_topic>
        <odometry_publish_frequency>{ODOMETRY_HZ}</odometry_publish_frequency>
        <min_velocity>-{fmt(MAX_SPEED)}</min_velocity>
        <max_velocity>{fmt(MAX_SPEED)}</max_velocity>
        <min_acceleration>-{fmt(MAX_ACCEL)}</min_acceleration>
        <max_acceleration>{fmt(MAX_ACCEL)}</max_acceleration>
      </plugin>
      <plugin filename="gz-sim-performer-detector-system" name="gz::sim::systems::PerformerDetector">
        <topic>/conveyor/exit_detector</topic>
        <pose>{fmt(exit_offset_x, 0, BELT_THICKNESS / 2 + part_z / 2)} 0 0 0</pose>
        <geometry><box><size>{fmt(window, BELT_WIDTH, 0.02)}</size></box></geometry>
      </plugin>
{presence("/conveyor/exit_detector", "/conveyor/part_at_exit")}
{nl.join(home)}
    </model>

    <!-- The downstream: clears the exit by pushing the part off the belt into the bin. -->
    <model name="takeaway">
      <pose>{fmt(BELT_UPSTREAM_X + EXIT_MM / 1000, BELT_Y - BELT_WIDTH / 2 - 0.03, WORK_SURFACE_Z, 0, 0, 0)}</pose>
      <link name="base">
        {inertial(1.0, box_inertia(1.0, 0.08, 0.04, 0.04))}
{box_shape("guide", (0.08, 0.03, 0.01), (0, -0.04, 0.035, 0, 0, 0), (0.5, 0.5, 0.5))}
      </link>
      <joint name="base_fixed" type="fixed">
        <parent>world</parent>
        <child>base</child>
      </joint>
      <link name="pusher">
        <pose>0 0 0.0145 0 0 0</pose>
        {inertial(0.2, box_inertia(0.2, 0.06, 0.02, 0.025))}
{box_shape("pusher", (0.06, 0.02, 0.025), (0, 0, 0, 0, 0, 0), (0.8, 0.2, 0.2))}
      </link>
      <joint name="pusher_joint" type="prismatic">
        <parent>base</parent>
        <child>pusher</child>
        <axis>
          <xyz>0 1 0</xyz>
          <limit><lower>0</lower><upper>{fmt(TAKEAWAY_STROKE + 0.005)}</upper><effort>200</effort><velocity>{fmt(TAKEAWAY_SPEED)}</velocity></limit>
        </axis>
      </joint>
      <plugin filename="gz-sim-joint-position-controller-system" name="gz::sim::systems::JointPositionController">
        <joint_name>pusher_joint</joint_name>
        <topic>/takeaway/pusher/cmd_pos</topic>
        <use_velocity_commands>true</use_velocity_commands>
        <cmd_max>{fmt(TAKEAWAY_SPEED)}</cmd_max>
        <cmd_min>-{fmt(TAKEAWAY_SPEED)}</cmd_min>
      </plugin>
{triggered("gz.msgs.Pose", "/conveyor/exit_detector", [("header.data", '{ key: "state" value: "1" }', "")], outputs=[("gz.msgs.Double", "/takeaway/pusher/cmd_pos", f"data: {fmt(TAKEAWAY_STROKE)}")], delay_ms=TAKEAWAY_MS, comment="a part at the exit is taken away after takeaway_ms")}
{triggered("gz.msgs.Pose", "/conveyor/exit_detector", [("header.data", '{ key: "state" value: "1" }', "")], outputs=[("gz.msgs.Double", "/takeaway/pusher/cmd_pos", "data: 0")], delay_ms=TAKEAWAY_RETRACT_MS)}
    </model>

    <model name="bin">
      <static>true</static>
      <pose>{fmt(BELT_UPSTREAM_X + EXIT_MM / 1000, BELT_Y + 0.17, 0, 0, 0, 0)}</pose>
      <link name="link">
{box_shape("floor", (0.3, 0.25, 0.01), (0, 0, 0.005, 0, 0, 0), (0.2, 0.5, 0.2))}
{box_shape("wall_far", (0.3, 0.01, 0.15), (0, 0.125, 0.075, 0, 0, 0), (0.2, 0.5, 0.2))}
{box_shape("wall_left", (0.01, 0.25, 0.15), (-0.15, 0, 0.075, 0, 0, 0), (0.2, 0.5, 0.2))}
{box_shape("wall_right", (0.01, 0.25, 0.15), (0.15, 0, 0.075, 0, 0, 0), (0.2, 0.5, 0.2))}
      </link>
    </model>

    <model name="stack_light">
      <static>true</static>
      <pose>-0.25 0.35 0 0 0 0</pose>
      <link name="pole">
{box_shape("pole", (0.03, 0.03, 1.2), (0, 0, 0.6, 0, 0, 0), (0.3, 0.3, 0.3))}
      </link>
      <link name="red_lamp">
        <pose>0 0 1.25 0 0 0</pose>
        <visual name="lens"><geometry><cylinder><radius>0.04</radius><length>0.08</length></cylinder></geometry>{material(0.3, 0.05, 0.05)}</visual>
      </link>
      <link name="green_lamp">
        <pose>0 0 1.17 0 0 0</pose>
        <visual name="lens"><geometry><cylinder><radius>0.04</radius><length>0.08</length></cylinder></geometry>{material(0.05, 0.3, 0.05)}</visual>
      </link>
    </model>

{nl.join(parts)}

    <!-- Gripper logic (topics of the arm's DetachableJoints and the parts' TouchPlugins). -->
{nl.join(gripper)}

{safety}
{lamp("/stack_light/red", "red_lamp", (1, 0.1, 0.1), (0.3, 0.05, 0.05))}
{lamp("/stack_light/green", "green_lamp", (0.1, 1, 0.1), (0.05, 0.3, 0.05))}
  </world>
</sdf>
"""


def main(argv):
    outputs = {HERE / "urdf" / "workcell_arm.urdf": arm_urdf(), HERE / "worlds" / "demo_cell.sdf": world_sdf()}
    if "--check" in argv:
        stale = [str(path) for path, text in outputs.items() if not path.exists() or path.read_text() != text]
        for path in stale:
            print(f"{path} is not what generate.py writes: run python3 hardware/gazebo/generate.py", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

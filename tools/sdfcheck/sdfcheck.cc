// sdfcheck: validate SDFormat worlds and models (and URDF, through SDFormat's URDF parser) with
// the SDFormat library Gazebo itself uses, and optionally describe what was loaded as JSON.
//
//   sdfcheck FILE...          load every file, run the checks of `ign sdf -k`, print each problem
//                             as "FILE: message"; exit 0 when all are valid, 1 otherwise, 2 on usage
//   sdfcheck --json FILE      validate FILE, then print one JSON object describing its worlds and
//                             models: resolved poses (world frame for world models, model frame
//                             for a model file), links, collisions, sensors, joints with their axes
//                             in the model frame, frames, and every <plugin> as an element tree
//
// Poses are [x, y, z, qw, qx, qy, qz]. Built against Debian's libsdformat12 (SDFormat 1.9):
//   g++ -std=c++17 -O1 -o sdfcheck sdfcheck.cc $(pkg-config --cflags --libs sdformat12)
// (test/gazebo/gazebo.ts builds it so on first use, cached by the source's hash).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <sdf/sdf.hh>

namespace
{
using Pose = ignition::math::Pose3d;

std::string Quote(const std::string &_s)
{
  std::string out = "\"";
  for (const unsigned char c : _s)
  {
    switch (c)
    {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20)
        {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        }
        else
        {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string Num(double _v)
{
  // JSON has no infinity: an unlimited joint limit is null.
  if (!std::isfinite(_v))
    return "null";
  std::ostringstream s;
  s.precision(12);
  s << _v;
  return s.str();
}

std::string PoseJson(const Pose &_p)
{
  return "[" + Num(_p.Pos().X()) + "," + Num(_p.Pos().Y()) + "," + Num(_p.Pos().Z()) + "," +
         Num(_p.Rot().W()) + "," + Num(_p.Rot().X()) + "," + Num(_p.Rot().Y()) + "," +
         Num(_p.Rot().Z()) + "]";
}

std::string Vec(const ignition::math::Vector3d &_v)
{
  return "[" + Num(_v.X()) + "," + Num(_v.Y()) + "," + Num(_v.Z()) + "]";
}

/// Collects resolution problems instead of dropping them: a pose that cannot be resolved is a
/// defect of the file, not something to paper over with an identity pose.
struct Context
{
  std::string file;
  std::vector<std::string> problems;

  Pose Resolve(const sdf::SemanticPose &_sp, const std::string &_to, const std::string &_what)
  {
    Pose p;
    const sdf::Errors errors = _to.empty() ? _sp.Resolve(p) : _sp.Resolve(p, _to);
    for (const auto &e : errors)
      this->problems.push_back(_what + ": " + e.Message());
    return p;
  }
};

/// Any element as {tag, attributes, value, children}: plugins are free-form, so the caller
/// interprets them (topics, message types, joint names) instead of this tool guessing.
std::string ElementJson(const sdf::ElementPtr &_elem)
{
  std::string out = "{\"tag\":" + Quote(_elem->GetName()) + ",\"attributes\":{";
  for (size_t i = 0; i < _elem->GetAttributeCount(); ++i)
  {
    const auto attr = _elem->GetAttribute(i);
    if (!attr->GetSet())
      continue;
    if (out.back() != '{')
      out += ",";
    out += Quote(attr->GetKey()) + ":" + Quote(attr->GetAsString());
  }
  out += "}";
  std::string value;
  if (_elem->GetValue())
    value = _elem->GetValue()->GetAsString();
  out += ",\"value\":" + Quote(value) + ",\"children\":[";
  bool first = true;
  for (auto child = _elem->GetFirstElement(); child; child = child->GetNextElement())
  {
    if (!first)
      out += ",";
    first = false;
    out += ElementJson(child);
  }
  return out + "]}";
}

std::string PluginsJson(const sdf::ElementPtr &_parent)
{
  std::string out = "[";
  if (_parent && _parent->HasElement("plugin"))
  {
    bool first = true;
    for (auto p = _parent->GetElement("plugin"); p; p = p->GetNextElement("plugin"))
    {
      if (!first)
        out += ",";
      first = false;
      out += ElementJson(p);
    }
  }
  return out + "]";
}

std::string GeometryJson(const sdf::Geometry *_g)
{
  if (!_g)
    return "null";
  switch (_g->Type())
  {
    case sdf::GeometryType::BOX:
      return "{\"type\":\"box\",\"size\":" + Vec(_g->BoxShape()->Size()) + "}";
    case sdf::GeometryType::CYLINDER:
      return "{\"type\":\"cylinder\",\"radius\":" + Num(_g->CylinderShape()->Radius()) +
             ",\"length\":" + Num(_g->CylinderShape()->Length()) + "}";
    case sdf::GeometryType::SPHERE:
      return "{\"type\":\"sphere\",\"radius\":" + Num(_g->SphereShape()->Radius()) + "}";
    case sdf::GeometryType::PLANE:
      return "{\"type\":\"plane\"}";
    case sdf::GeometryType::MESH:
      return "{\"type\":\"mesh\",\"uri\":" + Quote(_g->MeshShape()->Uri()) + "}";
    default:
      return "{\"type\":\"other\"}";
  }
}

/// _base is the pose of the model's parent frame in the output frame (world, or identity).
std::string ModelJson(Context &_ctx, const sdf::Model *_model, const Pose &_base, bool _topLevel)
{
  const std::string scope = "model " + _model->Name();
  // A model file's own <pose> places it in whatever includes it; it is the output frame here.
  const Pose modelPose = _topLevel && _base == Pose::Zero && _model->SemanticPose().RelativeTo().empty()
      ? _model->RawPose()
      : _ctx.Resolve(_model->SemanticPose(), "", scope);
  const Pose world = modelPose + _base;  // ignition: a + b applies a, then b (b * a)
  std::string out = "{\"name\":" + Quote(_model->Name()) + ",\"static\":" +
                    (_model->Static() ? "true" : "false") + ",\"pose\":" + PoseJson(world);

  out += ",\"links\":[";
  for (uint64_t i = 0; i < _model->LinkCount(); ++i)
  {
    const sdf::Link *link = _model->LinkByIndex(i);
    const std::string what = scope + " link " + link->Name();
    const Pose linkPose = _ctx.Resolve(link->SemanticPose(), "__model__", what) + world;
    if (i > 0)
      out += ",";
    out += "{\"name\":" + Quote(link->Name()) + ",\"pose\":" + PoseJson(linkPose) +
           ",\"mass\":" + Num(link->Inertial().MassMatrix().Mass()) + ",\"collisions\":[";
    for (uint64_t c = 0; c < link->CollisionCount(); ++c)
    {
      const sdf::Collision *col = link->CollisionByIndex(c);
      const Pose colPose = _ctx.Resolve(col->SemanticPose(), link->Name(), what + " collision " + col->Name()) + linkPose;
      if (c > 0)
        out += ",";
      out += "{\"name\":" + Quote(col->Name()) + ",\"pose\":" + PoseJson(colPose) +
             ",\"geometry\":" + GeometryJson(col->Geom()) + "}";
    }
    out += "],\"sensors\":[";
    for (uint64_t s = 0; s < link->SensorCount(); ++s)
    {
      const sdf::Sensor *sensor = link->SensorByIndex(s);
      const Pose sensorPose = _ctx.Resolve(sensor->SemanticPose(), link->Name(), what + " sensor " + sensor->Name()) + linkPose;
      if (s > 0)
        out += ",";
      out += "{\"name\":" + Quote(sensor->Name()) + ",\"type\":" + Quote(sensor->TypeStr()) +
             ",\"topic\":" + Quote(sensor->Topic()) + ",\"pose\":" + PoseJson(sensorPose) +
             ",\"element\":" + ElementJson(sensor->Element()) + "}";
    }
    out += "]}";
  }

  out += "],\"joints\":[";
  for (uint64_t i = 0; i < _model->JointCount(); ++i)
  {
    const sdf::Joint *joint = _model->JointByIndex(i);
    const std::string what = scope + " joint " + joint->Name();
    const Pose jointPose = _ctx.Resolve(joint->SemanticPose(), "__model__", what) + world;
    if (i > 0)
      out += ",";
    std::string type;
    switch (joint->Type())
    {
      case sdf::JointType::REVOLUTE: type = "revolute"; break;
      case sdf::JointType::PRISMATIC: type = "prismatic"; break;
      case sdf::JointType::FIXED: type = "fixed"; break;
      case sdf::JointType::CONTINUOUS: type = "continuous"; break;
      case sdf::JointType::BALL: type = "ball"; break;
      default: type = "other";
    }
    out += "{\"name\":" + Quote(joint->Name()) + ",\"type\":" + Quote(type) +
           ",\"parent\":" + Quote(joint->ParentLinkName()) + ",\"child\":" + Quote(joint->ChildLinkName()) +
           ",\"pose\":" + PoseJson(jointPose) + ",\"axis\":";
    const sdf::JointAxis *axis = joint->Axis(0);
    if (!axis)
    {
      out += "null";
    }
    else
    {
      ignition::math::Vector3d xyz;
      for (const auto &e : axis->ResolveXyz(xyz, "__model__"))
        _ctx.problems.push_back(what + " axis: " + e.Message());
      xyz = world.Rot().RotateVector(xyz);
      out += "{\"xyz\":" + Vec(xyz) + ",\"lower\":" + Num(axis->Lower()) + ",\"upper\":" + Num(axis->Upper()) +
             ",\"velocity\":" + Num(axis->MaxVelocity()) + ",\"effort\":" + Num(axis->Effort()) + "}";
    }
    out += "}";
  }

  out += "],\"frames\":[";
  for (uint64_t i = 0; i < _model->FrameCount(); ++i)
  {
    const sdf::Frame *frame = _model->FrameByIndex(i);
    const Pose framePose = _ctx.Resolve(frame->SemanticPose(), "__model__", scope + " frame " + frame->Name()) + world;
    if (i > 0)
      out += ",";
    out += "{\"name\":" + Quote(frame->Name()) + ",\"attachedTo\":" + Quote(frame->AttachedTo()) +
           ",\"pose\":" + PoseJson(framePose) + "}";
  }

  out += "],\"plugins\":" + PluginsJson(_model->Element()) + ",\"models\":[";
  for (uint64_t i = 0; i < _model->ModelCount(); ++i)
  {
    if (i > 0)
      out += ",";
    out += ModelJson(_ctx, _model->ModelByIndex(i), world, false);
  }
  return out + "]}";
}

/// Loads and checks one file the way SDFormat 12's `ign sdf -k` does; returns the problems found.
std::vector<std::string> Check(const std::string &_file, sdf::Root &_root)
{
  std::vector<std::string> problems;
  for (const auto &e : _root.Load(_file))
    problems.push_back(e.Message());
  if (!problems.empty())
    return problems;
  if (!sdf::checkCanonicalLinkNames(&_root))
    problems.push_back("invalid canonical link name");
  if (!sdf::checkJointParentChildLinkNames(&_root))
    problems.push_back("invalid joint parent or child link name");
  if (!sdf::checkFrameAttachedToGraph(&_root))
    problems.push_back("invalid frame attached_to graph");
  if (!sdf::checkPoseRelativeToGraph(&_root))
    problems.push_back("invalid pose relative_to graph");
  // Sibling names must be unique, except where SDFormat allows repeats (several <plugin>s).
  if (!sdf::recursiveSiblingUniqueNames(_root.Element()))
    problems.push_back("non-unique names among sibling elements");
  return problems;
}
}  // namespace

int main(int _argc, char **_argv)
{
  bool json = false;
  std::vector<std::string> files;
  for (int i = 1; i < _argc; ++i)
  {
    const std::string arg = _argv[i];
    if (arg == "--json")
      json = true;
    else if (arg == "-h" || arg == "--help")
    {
      std::cout << "usage: sdfcheck FILE...   |   sdfcheck --json FILE\n";
      return 0;
    }
    else if (!arg.empty() && arg[0] == '-')
    {
      std::cerr << "sdfcheck: unknown option " << arg << "\n";
      return 2;
    }
    else
      files.push_back(arg);
  }
  if (files.empty() || (json && files.size() != 1))
  {
    std::cerr << "usage: sdfcheck FILE...   |   sdfcheck --json FILE\n";
    return 2;
  }

  // SDFormat prints its own warnings to the console; keep stdout for the JSON.
  sdf::Console::Instance()->SetQuiet(true);

  int status = 0;
  for (const auto &file : files)
  {
    sdf::Root root;
    const auto problems = Check(file, root);
    for (const auto &p : problems)
      std::cerr << file << ": " << p << "\n";
    if (!problems.empty())
    {
      status = 1;
      continue;
    }
    if (!json)
    {
      std::cerr << file << ": valid SDFormat " << root.Version() << "\n";
      continue;
    }
    Context ctx{file, {}};
    std::string out = "{\"file\":" + Quote(file) + ",\"sdfVersion\":" + Quote(root.Version()) + ",\"worlds\":[";
    for (uint64_t w = 0; w < root.WorldCount(); ++w)
    {
      const sdf::World *world = root.WorldByIndex(w);
      if (w > 0)
        out += ",";
      out += "{\"name\":" + Quote(world->Name()) + ",\"gravity\":" + Vec(world->Gravity()) +
             ",\"plugins\":" + PluginsJson(world->Element()) + ",\"models\":[";
      for (uint64_t m = 0; m < world->ModelCount(); ++m)
      {
        if (m > 0)
          out += ",";
        out += ModelJson(ctx, world->ModelByIndex(m), Pose::Zero, true);
      }
      out += "]}";
    }
    out += "],\"models\":[";
    if (root.Model())
      out += ModelJson(ctx, root.Model(), Pose::Zero, true);
    out += "]}";
    for (const auto &p : ctx.problems)
      std::cerr << file << ": " << p << "\n";
    if (!ctx.problems.empty())
      return 1;
    std::cout << out << "\n";
  }
  return status;
}

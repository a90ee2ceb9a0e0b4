"""Inspect workcell's launch files without ROS 2: parse the Python one with `ast` and the XML one
with ElementTree, and print what the tests check as JSON (arguments declared, with their
descriptions and defaults; arguments used; the node's command line; every string constant)."""
import ast
import json
import re
import sys
import xml.etree.ElementTree as ElementTree


def literal(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def inspect_python(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), filename=path)
    declared, used, strings, nodes = [], set(), [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.append(node.value)
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        kwargs = {k.arg: k.value for k in node.keywords}
        if name == "DeclareLaunchArgument":
            declared.append(
                {
                    "name": literal(node.args[0]),
                    "default": literal(kwargs["default_value"]) if "default_value" in kwargs else None,
                    "description": literal(kwargs["description"]) if "description" in kwargs else None,
                    "choices": literal(kwargs["choices"]) if "choices" in kwargs else None,
                }
            )
        elif name == "LaunchConfiguration":
            used.add(literal(node.args[0]))
        elif name == "Node":
            nodes.append({k: (literal(v) if literal(v) is not None else ast.unparse(v)) for k, v in kwargs.items()})
    has_generate = any(isinstance(n, ast.FunctionDef) and n.name == "generate_launch_description" for n in tree.body)
    return {"declared": declared, "used": sorted(used), "strings": strings, "nodes": nodes, "generate": has_generate}


def inspect_xml(path):
    root = ElementTree.parse(path).getroot()
    declared = [
        {"name": a.get("name"), "default": a.get("default"), "description": a.get("description")}
        for a in root.findall("arg")
    ]
    text = open(path, encoding="utf-8").read()
    used = sorted(set(re.findall(r"\$\(var ([A-Za-z_][A-Za-z0-9_]*)\)", text)))
    includes = [
        {"file": i.get("file"), "args": {a.get("name"): a.get("value") for a in i.findall("arg")}}
        for i in root.findall("include")
    ]
    return {"root": root.tag, "declared": declared, "used": used, "includes": includes, "text": text}


if __name__ == "__main__":
    py, xml = sys.argv[1], sys.argv[2]
    print(json.dumps({"py": inspect_python(py), "xml": inspect_xml(xml)}))

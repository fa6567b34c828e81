"""
Records the configuration fields an engine accepts, read from its own source (never imported: the
engines are not installed here): the class-level annotated names (dataclass fields, pydantic
fields and their `alias=`) of a root class and of every base class found in the given files.

Usage: python3 recordFields.py ROOT_CLASS FILE... > fields.txt
Prints the names, one a line, sorted. FILE may be `-NAME=path` to read the file under another
display name (only the path is read). Names starting with "_" are private and left out.
"""
import ast
import sys


def classes_in(paths):
    found = {}
    for path in paths:
        with open(path, encoding="utf8") as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                found.setdefault(node.name, node)
    return found


def base_names(node):
    for b in node.bases:
        if isinstance(b, ast.Name):
            yield b.id
        elif isinstance(b, ast.Attribute):
            yield b.attr
        elif isinstance(b, ast.Subscript) and isinstance(b.value, ast.Name):
            yield b.value.id


def own_fields(node):
    for stmt in node.body:
        if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
            continue
        annotation = ast.unparse(stmt.annotation)
        if annotation.startswith("ClassVar") or stmt.target.id.startswith("_"):
            continue
        yield stmt.target.id
        if isinstance(stmt.value, ast.Call):
            for kw in stmt.value.keywords:
                if kw.arg == "alias" and isinstance(kw.value, ast.Constant):
                    yield kw.value.value


def fields_of(root, classes):
    seen, names, todo = set(), set(), [root]
    while todo:
        name = todo.pop()
        if name in seen or name not in classes:
            continue
        seen.add(name)
        names.update(own_fields(classes[name]))
        todo.extend(base_names(classes[name]))
    if root not in seen:
        raise SystemExit(f"class {root} not found")
    return sorted(names)


if __name__ == "__main__":
    print("\n".join(fields_of(sys.argv[1], classes_in(sys.argv[2:]))))

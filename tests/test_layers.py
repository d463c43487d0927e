"""The import layering of DESIGN.md: a folder imports only from the layers below it."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Folder -> (import name, rank). A module may import only from packages of lower or equal rank.
LAYERS = {
    "kernels": ("tensorscript.kernels", 0),
    "grammar": ("tensorscript.grammar", 1),
    "parser": ("tensorscript.parser", 1),
    "jit/ir": ("tensorscript.jit.ir", 2),
    "jit/ops": ("tensorscript.jit.ops", 2),
    "typecheck": ("tensorscript.typecheck", 3),
    "jit": ("tensorscript.jit", 4),
    "interpreter": ("tensorscript.interpreter", 5),
    "lang": ("tensorscript", 6),
}


def _rank_of_module(name: str) -> int:
    best, best_len = LAYERS["lang"][1], 0
    for _, (pkg, rank) in LAYERS.items():
        if (name == pkg or name.startswith(pkg + ".")) and len(pkg) > best_len:
            best, best_len = rank, len(pkg)
    return best


def _folder_of(path: pathlib.Path) -> str:
    rel = path.relative_to(ROOT).as_posix()
    for folder in sorted(LAYERS, key=len, reverse=True):
        if rel.startswith(folder + "/"):
            return folder
    raise AssertionError(rel)


def _package_of(path: pathlib.Path) -> str:
    folder = _folder_of(path)
    pkg = LAYERS[folder][0]
    inner = path.relative_to(ROOT / folder).with_suffix("").parts
    parts = [p for p in inner if p != "__init__"]
    return ".".join([pkg, *parts[:-1]]) if path.name != "__init__.py" else ".".join([pkg, *parts])


def _imports(path: pathlib.Path):
    tree = ast.parse(path.read_text(), str(path))
    package = _package_of(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            yield node.lineno, name
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "load_on_first_use"):
            # a kernel module held for loading on first use is an import all the same
            yield node.lineno, "tensorscript.kernels." + node.args[0].value


SOURCES = [p for folder in LAYERS for p in (ROOT / folder).glob("*.py")] + [
    p for p in (ROOT / "lang").rglob("*.py")]


@pytest.mark.parametrize("path", sorted(set(SOURCES)), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_imports_respect_layers(path):
    rank = LAYERS[_folder_of(path)][1]
    for lineno, name in _imports(path):
        if not name.startswith("tensorscript"):
            assert name.split(".")[0] != "torch", f"{path}:{lineno} imports torch"
            continue
        assert _rank_of_module(name) <= rank, f"{path}:{lineno} imports {name} from a higher layer"


def test_kernel_modules_loaded_on_first_use_are_seen():
    found = dict(_imports(ROOT / "jit/ops/elementwise.py"))
    assert "tensorscript.kernels.elementwise" in found.values()

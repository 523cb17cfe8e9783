"""The layout README.md's "How the code is laid out" promises, checked on the source itself."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "surveys"
# What marks a module as part of the web layer: it reads the request or the logged-in user, or
# defines routes. (surveys.db keeps its session on `g`, which every app context has, worker too.)
REQUEST_NAMES = {"request", "session", "Blueprint"}
LOGIN_NAMES = {"current_user", "login_user", "logout_user", "login_required"}
LONGEST_MODULE = 520


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every import outside `if TYPE_CHECKING:` blocks, resolved to absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(child) for child in ast.walk(node))
    here = _module_name(path).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    found = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.append((module, [alias.name for alias in node.names]))
    return found


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        targets = set()
        for module, names in _imports(path):
            # `from surveys.admin import users` imports the module surveys.admin.users;
            # `from surveys.admin import bp` imports surveys.admin itself.
            for imported in names or [None]:
                submodule = f"{module}.{imported}"
                target = submodule if submodule in modules else module
                if target in modules and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_no_import_cycle_inside_the_package():
    assert _cycles(_graph()) == []


def _touches_the_request(path: Path) -> bool:
    return any(
        (module == "flask_login" and LOGIN_NAMES & set(names))
        or (module == "flask" and REQUEST_NAMES & set(names))
        for module, names in _imports(path)
    )


def test_services_never_reach_for_the_request_or_a_web_module():
    """Services are called by pages, the API, the CLI and the worker alike: none has a request."""
    modules = _modules()
    web_modules = {name for name, path in modules.items() if _touches_the_request(path)}
    graph = _graph()
    offenders = [
        f"{name} imports {target}"
        for name in modules
        if name.startswith("surveys.services")
        for target in graph[name] | ({name} if name in web_modules else set())
        if target in web_modules or target.endswith((".views", ".routes", ".blueprint", ".forms"))
    ]
    assert offenders == []


def test_no_module_is_a_long_scroll():
    long_modules = {
        name: lines
        for name, path in _modules().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > LONGEST_MODULE
    }
    assert long_modules == {}

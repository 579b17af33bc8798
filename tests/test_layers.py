"""Every top-level module of trueorigin has its place in the import-linter layers (pyproject.toml), so a new
package (the server, the site sensors) cannot escape the contracts `make test` checks."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import trueorigin

PYPROJECT = Path(__file__).parent.parent / "pyproject.toml"


def test_every_top_level_module_is_in_a_layer() -> None:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["id"] == "layers")["layers"]
    placed = {name.strip() for layer in layers for name in layer.replace(":", "|").split("|")}
    modules = {f"trueorigin.{m.name}" for m in pkgutil.iter_modules(trueorigin.__path__)}
    assert sorted(modules - placed) == [], "add the module to the layers contract in pyproject.toml"
    assert sorted(placed - modules) == [], "the layers contract names a module that does not exist"

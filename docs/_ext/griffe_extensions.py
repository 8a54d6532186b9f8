"""Griffe extensions for the API reference (mkdocstrings' Python handler); see mkdocs.yml.

* ``ExampleSections``: the package's docstrings head their doctests ``Example:`` (singular), which Griffe's
  Google-style parser reads as an admonition, so the ``>>>`` lines would render as nested quotes. An
  ``Example:`` heading is read as ``Examples:``, the parser's examples section (code blocks).
* ``ExportedNamesOverSubmodules``: ``from .gradcheck import gradcheck`` in a package makes the package's
  ``gradcheck`` the function, but Griffe lists the submodule of that name instead, so the function would be
  missing from the reference. A name in a module's ``__all__`` that Griffe holds as a submodule while Python
  holds something else becomes an alias to that object; the submodule stays reachable as ``_<name>_module``
  (``::: tinygrad_lab._jit_module`` documents the module ``tinygrad_lab.jit``).
"""
from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import griffe

_EXAMPLE_HEADING = re.compile(r"^(\s*)Example:[ \t]*$", re.M)


class ExampleSections(griffe.Extension):
    """Rename each ``Example:`` docstring section heading to ``Examples:`` as objects are loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        docstring = obj.docstring
        if docstring is not None and "Example:" in docstring.value:
            docstring.value = _EXAMPLE_HEADING.sub(r"\1Examples:", docstring.value)


class ExportedNamesOverSubmodules(griffe.Extension):
    """Point an exported name shadowed by a same-named submodule at the object Python exports."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for module in _modules(pkg):
            try:
                runtime = importlib.import_module(module.path)
            except ImportError:
                continue
            for export in module.exports or []:
                name = export if isinstance(export, str) else export.name
                member = module.members.get(name)
                if member is None or member.is_alias or not member.is_module:
                    continue
                value = getattr(runtime, name, None)
                if value is None or inspect.ismodule(value) or name not in member.members:
                    continue
                module.set_member(name, griffe.Alias(name, member.members[name], parent=module))
                # the submodule itself stays documentable, by a name nothing exports (`::: tinygrad_lab._jit_module`
                # documents the module `tinygrad_lab.jit`, with its own anchors)
                module.members[f"_{name}_module"] = member


def _modules(module: griffe.Module) -> list[griffe.Module]:
    found = [module]
    for member in list(module.members.values()):
        if not member.is_alias and member.is_module:
            found.extend(_modules(member))  # type: ignore[arg-type]
    return found

"""The documentation covers the package: every public name has its page in the
API reference, and every page of the site is in its table of contents."""

import importlib
import re
from pathlib import Path

import skscale

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _api_entries():
    """``module.name`` for every entry of the API reference's autosummary
    tables and ``data`` directives."""
    module, found = "skscale", set()
    for line in (DOCS / "api.rst").read_text().splitlines():
        if m := re.match(r"\.\. currentmodule:: (\S+)", line):
            module = m[1]
        elif m := re.match(r"\.\. data:: (\S+)", line):
            found.add(f"{module}.{m[1]}")
        elif m := re.fullmatch(r"   ([A-Za-z_]\w*)", line):
            found.add(f"{module}.{m[1]}")
    return found


def test_every_public_name_has_an_api_entry():
    public = {f"skscale.{n}" for n in skscale.__all__ if n not in ("io", "weights")}
    public |= {f"skscale.io.{n}" for n in skscale.io.__all__}
    public |= {f"skscale.weights.{n}" for n in skscale.weights.__all__}
    public |= {f"skscale.onnx.{n}" for n in importlib.import_module("skscale.onnx").__all__}
    entries = _api_entries()
    assert public - entries == set(), "public names without an API page"
    assert entries - public == set(), "API entries that are not public names"


def test_every_page_is_in_the_table_of_contents():
    index = (DOCS / "index.md").read_text()
    toc = index.split("```{toctree}")[1].split("```")[0]
    listed = {line.strip() for line in toc.splitlines() if line.strip() and ":" not in line}
    pages = {p.stem for p in DOCS.glob("*.md") if p.stem != "index"} | {"api"}
    assert pages - listed == set()


def test_every_compiled_loop_and_device_kernel_is_in_the_algorithm_table():
    # A change to one path's numerics must find its twins: every function of
    # the compiled and device layers is in docs/design.md's table, and every
    # function the table names exists.
    import inspect

    from skscale import _compiled, _device

    page = (DOCS / "design.md").read_text()
    table = page.split("## Which function implements each algorithm")[1].split("\n## ")[0]
    public = {f"_compiled.{n}" for n, f in vars(_compiled).items()
              if inspect.isfunction(f) and n.endswith("_loop")}
    public |= {f"_device.{n}" for n, f in vars(_device).items()
               if inspect.isfunction(f) and n.endswith("_on_device")}
    assert {name for name in public if f"`{name}`" not in table} == set()
    named = re.findall(r"`(_\w+)\.([\w.]+)`", table)
    assert named, "the table names no function"
    for module, attr in named:
        obj = __import__(f"skscale.{module}", fromlist=["_"])
        for part in attr.split("."):
            obj = getattr(obj, part)

"""Sphinx configuration of skscale's documentation site.

``make docs`` builds it into ``docs/_build/html``, with every warning an
error; the gallery (``examples/plot_*.py``) runs as part of the build.
"""

import os
import sys
import warnings

import skscale

sys.path.insert(0, os.path.dirname(__file__))  # gallery_order

project = "skscale"
author = "the skscale developers"
copyright = "the skscale developers"
version = release = skscale.__version__

# The method names as the code registers them, for the pages that list them.
rst_epilog = ".. |scaler_names| replace:: " + ", ".join(f'``"{name}"``' for name in skscale.SCALERS)

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "matplotlib.sphinxext.plot_directive",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5",
                    "sg_execution_times.rst"]
templates_path = ["_templates"]
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False  # the class template lists them
numpydoc_class_members_toctree = False

plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"figure.autolayout": True}



sphinx_gallery_conf = {
    "within_subsection_order": "gallery_order.GalleryOrder",  # by name: cacheable
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"demo\.py",
    "doc_module": ("skscale",),
    "backreferences_dir": "api/backreferences",
    "reference_url": {"skscale": None},
    "remove_config_comments": True,
    "ignore_repr_types": r"matplotlib\.(text|legend|figure|axes|lines|image|colorbar)",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "show_memory": False,
    "write_computation_times": False,
}

html_theme = "pydata_sphinx_theme"
html_title = "skscale"
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "show_prev_next": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_show_sourcelink = False
# The pages without sub-pages need no section navigation.
html_sidebars = {page: [] for page in ("index", "choosing", "guide", "train_test",
                                       "coming_from", "large_data", "devices", "persistence",
                                       "performance", "bad_input", "api")}

os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("error", category=UserWarning, module="matplotlib")

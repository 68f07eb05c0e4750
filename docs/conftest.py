# The doctests of the documentation's Markdown pages run with the suite; the
# Sphinx configuration and the figure scripts are not test modules.
collect_ignore = ["conf.py", "gallery_order.py", "figures"]
collect_ignore_glob = ["_build/*", "api/*", "auto_examples/*"]

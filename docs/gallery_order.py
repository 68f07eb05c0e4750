"""The order of the gallery's examples, for sphinx-gallery's
``within_subsection_order``."""


class GalleryOrder:
    """The gallery in reading order: why scale at all, what each method does,
    how to choose, then the specialised methods, saving, and large data."""

    ORDER = ["plot_convergence.py", "plot_batch_norm_layers.py", "plot_before_after.py", "plot_shape_changing.py",
             "plot_grid_search.py", "plot_auto_scaler.py", "plot_batch_norm_drift.py",
             "plot_image_norms.py", "plot_persistence.py", "plot_export.py",
             "plot_bigger_than_memory.py"]

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        return (self.ORDER.index(filename) if filename in self.ORDER else len(self.ORDER),
                filename)

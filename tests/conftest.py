import os

# scikit-learn's estimator checks include array-API input checks (with plain
# numpy for estimators without array-API support) that only run when SciPy's
# array-API mode is on, which must be set before SciPy is imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

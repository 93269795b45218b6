"""
Layer Normalization, annotated: every page of the site is one module of this package,
with its prose beside its code. The site's landing page is `docs/index.md`.
"""

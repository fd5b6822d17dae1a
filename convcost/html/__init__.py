"""Pictures of a report: the self-contained HTML page of ``convcost report``, the comparison
page of ``compare --format html``, the notebook views (``_repr_html_``) and the mermaid
flowchart of ``analyze --format markdown --mermaid``.

Every page is one file with inline CSS and SVG, no script and no network access. User text
(spec names, paths, kinds) reaches markup only through :func:`convcost.html.markup.text`.
Sizes are bounded for huge specs (see :mod:`convcost.html.bounds`).
"""

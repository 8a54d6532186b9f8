"""MkDocs hooks (see mkdocs.yml): links inside the notebook pages.

The tour notebook links to the guides as ``engine.md`` (what works where the notebook is opened: Jupyter,
GitHub). MkDocs rewrites such links in Markdown pages only, so on a notebook page they are rewritten here
to the guide's page URL (``engine.md`` -> ``../engine/``, ``api/index.md`` -> ``../api/``).
"""
from __future__ import annotations

import re
from typing import Any

_MD_LINK = re.compile(r'href="(?!https?:|#|/)([\w./-]+?)\.md(#[\w-]*)?"')


def _page_url(path: str) -> str:
    path = path.removesuffix("index")
    return f"../{path}/" if path and not path.endswith("/") else f"../{path}"


def on_page_content(html: str, page: Any, **kwargs: Any) -> str:
    """Rewrite ``*.md`` links of notebook pages to page URLs."""
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    return _MD_LINK.sub(lambda m: f'href="{_page_url(m.group(1))}{m.group(2) or ""}"', html)

"""MkDocs hook: numpydoc's reStructuredText roles and math, as mkdocstrings leaves them in the HTML, made readable.

``:math:`x``` and ``.. math::`` become MathJax spans (the arithmatex classes MathJax is configured for);
``:class:`~pkg.mod.Name``` and the other cross-reference roles become plain code names.
"""

from __future__ import annotations

import re

ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|obj|exc):<code>~?([\w.]+)</code>")
INLINE_MATH = re.compile(r":math:<code>(.*?)</code>")
BLOCK_MATH = re.compile(r"<p>\.\. math::\s*(.*?)</p>", re.DOTALL)


def on_page_content(html: str, **_) -> str:
    """Rewrite the roles and math of one page's HTML."""
    html = BLOCK_MATH.sub(lambda m: f'<div class="arithmatex">\\[{m.group(1).strip()}\\]</div>', html)
    html = INLINE_MATH.sub(lambda m: f'<span class="arithmatex">\\({m.group(1)}\\)</span>', html)
    return ROLE.sub(lambda m: f"<code>{m.group(1).rsplit('.', 1)[-1]}</code>", html)

"""Griffe extension: each documented parameter takes its type and default from the signature.

numpydoc lets one entry document several parameters (``outcome, drivers``); griffe gives every name of
such an entry the first name's type and default, so the reference would show ``drivers: str`` and three
defaults of 999. The signature is the truth, so it wins.
"""

from __future__ import annotations

from typing import Any

import griffe


class SignatureTypes(griffe.Extension):
    """Overwrite parameter types and defaults in parsed docstrings with the signature's."""

    def on_function(self, *, func: griffe.Function, **kwargs: Any) -> None:
        _fix(func, func.parameters)

    def on_class(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        init = cls.members.get("__init__")
        if isinstance(init, griffe.Function):
            _fix(cls, init.parameters)


def _fix(obj: griffe.Object, parameters: griffe.Parameters) -> None:
    if obj.docstring is None:
        return
    for section in obj.docstring.parsed:
        if section.kind is not griffe.DocstringSectionKind.parameters:
            continue
        for item in section.value:
            if item.name in parameters:
                parameter = parameters[item.name]
                item.annotation = parameter.annotation if parameter.annotation is not None else item.annotation
                item.value = parameter.default

"""Document kinds: each kind recognises itself and reads its own filing fields, in one module.

A kind is a module of this package that defines ``KIND``, a :class:`DocumentKind`. Adding a kind
is adding a module here: :func:`all_kinds` finds it, nothing else changes. The generic fields
(:func:`ingest.metadata.extract_metadata`) are read first; then the one *main* kind that detects
itself with the highest rank (a law, a reply, a notice, a plan; ``generic`` when none) adds or
corrects fields, then every *layer* that detects itself (a web page's information box) does,
and a layer's fields win: they are the publisher's own record.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Mapping

from ingest.metadata import drop_empty, extract_metadata


@dataclass(frozen=True)
class DocumentKind:
    """One kind of document.

    Attributes:
        name: short id shown by ``python -m ingest --show`` and stored on the Document (``law``).
        label: what staff call it (``法律法规/办法/细则``).
        rank: among main kinds that detect themselves, the highest rank names the document.
        detect: does a cleaned text belong to this kind?
        read_metadata: ``(text, fields found so far) -> fields to set``; a field set to ``""`` is removed.
        layer: adds filing fields without naming the document's kind (an information box).
    """

    name: str
    label: str
    rank: int
    detect: Callable[[str], bool]
    read_metadata: Callable[[str, Mapping[str, str]], dict[str, str]]
    layer: bool = False


@dataclass(frozen=True)
class Filing:
    """What a text was recognised as: its main kind, the layers found, and its filing fields."""

    kind: str
    layers: tuple[str, ...] = ()
    meta: Mapping[str, str] = field(default_factory=dict)


@lru_cache(maxsize=1)
def all_kinds() -> tuple[DocumentKind, ...]:
    """Every kind defined in this package, highest rank first.

    Example:
        >>> "generic" in [k.name for k in all_kinds()], all_kinds()[-1].name
        (True, 'generic')
    """
    kinds = []
    for module in pkgutil.iter_modules(__path__):
        kind = getattr(importlib.import_module(f"{__name__}.{module.name}"), "KIND", None)
        if isinstance(kind, DocumentKind):
            kinds.append(kind)
    return tuple(sorted(kinds, key=lambda k: (-k.rank, k.name)))


def read_filing(text: str) -> Filing:
    r"""Recognise the kind of a cleaned text and read its filing fields.

    Example:
        >>> f = read_filing("某某条例\n第一章 总则\n第一条 甲。\n第二条 乙。\n第三条 本条例自2020年5月1日起施行。")
        >>> f.kind, f.meta["title"], f.meta["施行日期"]
        ('law', '某某条例', '2020年5月1日')
    """
    meta = dict(extract_metadata(text))
    detected = [kind for kind in all_kinds() if kind.detect(text)]
    main = next((kind for kind in detected if not kind.layer), None)
    layers = [kind for kind in detected if kind.layer]
    for kind in ([main] if main else []) + layers:
        meta.update(kind.read_metadata(text, meta))
    return Filing(main.name if main else "generic", tuple(k.name for k in layers), drop_empty(meta))

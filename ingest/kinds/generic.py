"""Any other document: the generic filing fields only (a speech, a press Q&A, a report)."""

from __future__ import annotations

from typing import Mapping

from ingest.kinds import DocumentKind


def _nothing_more(text: str, found: Mapping[str, str]) -> dict[str, str]:
    return {}


KIND = DocumentKind("generic", "其他文件", 0, lambda text: True, _nothing_more)

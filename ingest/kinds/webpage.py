"""A page saved from a government site with its information box (索引号, 发文机关, 成文日期, 标题,
发文字号, 发布日期…): the box is the publisher's record of the document, so its fields win."""

from __future__ import annotations

from typing import Mapping

from ingest.infobox import read_info_box
from ingest.kinds import DocumentKind
from ingest.metadata import doc_type


def _box_fields(text: str, found: Mapping[str, str]) -> dict[str, str]:
    fields = read_info_box(text)
    if "title" in fields:
        fields["文种"] = doc_type(fields["title"], text) or found.get("文种", "")
    return fields


KIND = DocumentKind("webpage", "网页（信息公开栏）", 100, lambda text: bool(read_info_box(text)), _box_fields, layer=True)

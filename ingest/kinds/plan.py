"""A plan, action plan or programme (规划, 行动计划, 行动方案, 实施方案, 纲要): 一、（一）1. headings,
专栏 boxes, indicator tables."""

from __future__ import annotations

import re
from typing import Mapping

from ingest.kinds import DocumentKind
from ingest.metadata import title_block

_PLAN_WORDS = ("行动计划", "行动方案", "实施方案", "工作方案", "规划", "计划", "方案", "纲要", "要点")
_YEARS = re.compile(r"[（(][^（）()]{4,20}[）)]$")  # （2025-2030年）


def _plan_word(title: str) -> str:
    title = _YEARS.sub("", title)
    return next((word for word in _PLAN_WORDS if title.endswith(word)), "")


def _plan_fields(text: str, found: Mapping[str, str]) -> dict[str, str]:
    return {"文种": found.get("文种") or _plan_word(title_block(text))}


KIND = DocumentKind("plan", "规划/行动方案", 10, lambda text: bool(_plan_word(title_block(text))), _plan_fields)

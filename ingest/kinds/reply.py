"""A reply to a deputy's suggestion or a member's proposal (答复, 答复函): 主送 is the deputy or
member, 所答建议 the proposal answered."""

from __future__ import annotations

import re
from typing import Mapping

from ingest.kinds import DocumentKind
from ingest.metadata import title_block

_ANSWERS = re.compile(r"(?:现|特)?答复如下")


def _is_reply(text: str) -> bool:
    return "答复" in title_block(text) or bool(_ANSWERS.search(text[:3000]))


def _reply_fields(text: str, found: Mapping[str, str]) -> dict[str, str]:
    return {"文种": found.get("文种") or "答复函"}


KIND = DocumentKind("reply", "建议提案答复", 30, _is_reply, _reply_fields)

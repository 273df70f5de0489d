"""A 通知, 意见, 决定 and the like: header (文号, title), 主送, body, 附件, signature. A 印发 notice
names the document it issues in 《…》 (印发文件); that document (a plan, a 办法) is attached."""

from __future__ import annotations

import re
from typing import Mapping

from ingest.kinds import DocumentKind
from ingest.metadata import title_block

_NOTICE_WORDS = ("通知", "意见", "决定", "通告", "公告", "批复", "通报", "函")
_ISSUED = re.compile(r"印发[^《》]{0,4}[《〈]([^《》〈〉]{2,80})[》〉]|印发(.{2,80}?)的通知$")


def _is_notice(text: str) -> bool:
    title = re.sub(r"《[^《》]*》", "", title_block(text))
    return "印发" in title or title.endswith(_NOTICE_WORDS)


def _notice_fields(text: str, found: Mapping[str, str]) -> dict[str, str]:
    issued = _ISSUED.search(found.get("title", "") or title_block(text))
    return {"印发文件": issued.group(1) or issued.group(2)} if issued else {}


KIND = DocumentKind("notice", "通知/意见/决定", 20, _is_notice, _notice_fields)

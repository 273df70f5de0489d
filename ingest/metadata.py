"""What a clerk files a document under: title, 发文机关, 文号, 成文日期, 文种.

Read from the header, the 印发 line and the signature block where the text has them; a
sidecar file ``<file name>.meta.json`` next to the document sets or corrects any field.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ingest.infobox import box_key, info_box_keys
from ingest.normalize import search_form
from ingest.structure import heading_level, law_part
from ingest.tables import ROW_MARK
from ingest.types import CorpusError

SIDECAR_SUFFIX = ".meta.json"
MAX_SIDECAR_BYTES = 64 * 1024
MAX_META_CHARS = 200  # a title is repeated in every chunk's embedded text: keep every field short
META_FIELDS = ("title", "发文机关", "文号", "成文日期", "发布日期", "施行日期", "有效期至", "文种", "主送", "抄送",
               "印发日期", "联系人", "联系电话", "所答建议", "印发文件", "通过", "发布", "批准", "修订", "索引号", "主题分类", "主题词")
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,8}[〔\[［(（]\d{4}[〕\]］)）]\d{1,4}号")
_CN_DATE = "[〇零○一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日"
_DATE = re.compile(rf"^(\d{{4}}年\d{{1,2}}月\d{{1,2}}日|{_CN_DATE})$", re.M)
_ISSUER = re.compile(r"^(.{2,40}?)\s*文件$", re.M)
_ISSUER_ENDINGS = ("局", "政府", "委员会", "办公室", "厅", "院")
_KINDS = ("答复函", "答复", "行动计划", "实施方案", "规划", "通知", "意见", "办法", "报告")
_QUOTED_TITLE = re.compile(r"《([^《》]{6,80})》")
_HEADER_LINES = 12
_SALUTATION = re.compile(r"^(.{2,80})[：:]$")
_COPY_TO = re.compile(r"^抄送[：:]\s*(.+?)。?$", re.M)
_PRINTED = re.compile(r"(\d{4}年\d{1,2}月\d{1,2}日)\s*印发")
_IN_FORCE = re.compile(r"本(?:法|条例|办法|细则|规定|规则|决定|意见|方案|通知|措施|标准)[^。；\n]{0,12}?自(.{4,16}?)起(?:施行|实施|执行|生效)")
_VALID_UNTIL = re.compile(r"有效期至(\d{4}年\d{1,2}月\d{1,2}日)")
_ANSWERED = re.compile(r"所提(?:出)?的?《([^《》]{4,100})》[^。]{0,30}收悉")  # the 建议/提案 a reply answers
_CONTACT = re.compile(r"^联系人[：:]\s*([^，,；;\s]{2,12})", re.M)  # a reply's closing 联系人：刘焕斌，联系方式：…
_PHONE = re.compile(r"联系(?:方式|电话)[：:]\s*([\d\-－]{7,}(?:[，,、/\s]+[\d\-－]{7,})*)")
# Fields read where the text writes them in a fixed form (the first match's group 1).
_WRITTEN_AS = (("抄送", _COPY_TO), ("印发日期", _PRINTED), ("所答建议", _ANSWERED), ("联系人", _CONTACT), ("联系电话", _PHONE),
               ("施行日期", _IN_FORCE), ("有效期至", _VALID_UNTIL))
_TITLE_ENDINGS = ("规划", "计划", "方案", "意见", "通知", "办法", "报告", "答复函", "纲要")
_TITLE_LINE_MAX = 100
_CRAWL_FIELD = re.compile(r"^[^\s:：]{2,8}: ")  # a crawler's header line, "发布日期: 2025-05-27"
_HISTORY_LINE = re.compile(r"^(?:\d{4}年\d{1,2}月\d{1,2}日|" + _CN_DATE + r").*(?:通过|批准|发布|修订|修正|公布)）?$")
_KIND_WORDS = ("条例", "细则", "规定", "决定")
_SITE_SUFFIX = re.compile(r"_[^_]{2,30}$")  # a saved page's <title>: "标题_政府信息公开专栏"


def title_block(text: str) -> str:
    r"""The document's own title: the first run of short header lines (a title broken over lines
    is joined), skipping the issuer's ``…文件`` line, the 文号, a box or crawler's ``key：value``
    lines, a law's 通过/修订 lines; it ends at the salutation or the body. ``""`` when the text
    starts with its body.

    Example:
        >>> title_block("关于印发《北京市概念验证平台建设实施\n方案》的通知\n京科发〔2025〕17号\n各有关单位：\n正文。")
        '关于印发《北京市概念验证平台建设实施方案》的通知'
        >>> title_block("国家科学技术奖励条例\n1999年5月23日 国务院令第265号发布\n第一章 总则")
        '国家科学技术奖励条例'
    """
    block: list[str] = []
    for line in [l.strip() for l in text.split("\n")[:_HEADER_LINES * 3] if l.strip()]:
        skipped = (_ISSUER.match(line) or _DOC_NUMBER.fullmatch(line) or _CRAWL_FIELD.match(line)
                   or _is_box_line(line) or _HISTORY_LINE.match(line) or line.strip("-—* ") == "" or line.isdigit()
                   or line.startswith(("http", "[", "<!--")))
        ends = (len(line) > _TITLE_LINE_MAX or line.endswith(("。", "：", ":", "；")) or heading_level(line) is not None
                or ROW_MARK in line)
        if skipped or ends:
            if block or ends:
                break
            continue
        block.append(_SITE_SUFFIX.sub("", line))
    title = "".join(block)
    if "关于" in title or "印发" in title:
        title = re.sub(r"\s+", "", title)
    return title if len(title) <= MAX_META_CHARS else ""


def _is_box_line(line: str) -> bool:
    key, sep, _ = line.partition("：")
    return bool(sep) and re.sub(r"[ \u3000]+", "", key) in info_box_keys()


def _first_title(text: str) -> str:
    block = title_block(text)
    if block:
        return block
    head = [line.strip() for line in text.split("\n")[:_HEADER_LINES * 3] if line.strip()]
    for line in head:
        if line.startswith("关于") and line.endswith(("通知", "答复函", "函", "意见")):
            return re.sub(r"\s+", "", line)
        if "印发" in line and line.endswith("通知"):
            return re.sub(r"\s+", "", line)
    match = _QUOTED_TITLE.search("\n".join(head))
    if match:
        return match.group(1)
    for line in head[:3]:  # a plain title line: "温州市科技创新规划"
        if len(line) <= 40 and line.endswith(_TITLE_ENDINGS):
            return line
    return ""


def _issuer(text: str) -> str:
    match = _ISSUER.search("\n".join(text.split("\n")[:_HEADER_LINES]))
    if match:
        return re.sub(r"\s+", "、", match.group(1).strip())
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    for at, line in enumerate(lines):  # signature block: the issuers (co-issuers one a line), then the date
        first = at
        while first > 0 and len(lines[first - 1]) <= 30 and lines[first - 1].endswith(_ISSUER_ENDINGS):
            first -= 1
        if _DATE.fullmatch(line) and first < at:
            return "、".join(lines[first:at])
    return ""


def _kind(title: str, text: str) -> str:
    if "印发" not in title:
        title = re.sub(r"《[^《》]*》", "", title)  # a document named in the title is not this one's kind
    for kind in _KINDS:
        if kind in title:
            return "答复函" if kind == "答复" else kind
    for kind in _KIND_WORDS:
        if title.endswith(kind):
            return kind
    if re.search(r"现答复如下", text):
        return "答复函"
    return ""


def doc_type(title: str, text: str) -> str:
    """The 文种 a title (else the text) shows: 答复函, 规划, 通知, 条例…; ``""`` when none does.

    Example:
        >>> doc_type("国务院办公厅对第2996号建议的答复", ""), doc_type("问答实录：《若干意见》的有关情况", "")
        ('答复函', '')
    """
    return _kind(title, text)


def extract_metadata(text: str) -> dict[str, str]:
    r"""Extract title, 发文机关, 文号, 成文日期, 文种, 主送, 抄送, 印发日期, 联系人, 联系电话 and
    所答建议 (the title of the proposal a reply answers) from a cleaned text.

    Fields the text does not give are left out.

    Example:
        >>> t = "温州市科学技术局文件\n温科提复〔2023〕94号\n关于第142号提案的答复函\n现答复如下：\n2023年6月1日"
        >>> extract_metadata(t)["文号"], extract_metadata(t)["文种"], extract_metadata(t)["成文日期"]
        ('温科提复〔2023〕94号', '答复函', '2023年6月1日')
        >>> extract_metadata("洪晓畅委员：\n您的提案收悉。\n抄送：市府办。\n办公室 2023年6月21日印发")["抄送"]
        '市府办'
        >>> m = extract_metadata("最后，感谢您的支持。\n联系人：刘焕斌，联系方式：88962078，13750908558\n温州市科学技术局")
        >>> m["联系人"], m["联系电话"]
        ('刘焕斌', '88962078，13750908558')
        >>> extract_metadata("您在会议期间所提的《关于加强高新区建设的建议》（人大建议412号）收悉。")["所答建议"]
        '关于加强高新区建设的建议'

    """
    meta: dict[str, str] = {}
    title = _first_title(text)
    if title:
        meta["title"] = title
    number = _DOC_NUMBER.search(text[:2000])
    if number:
        meta["文号"] = number.group(0)
    issuer = _issuer(text)
    if issuer:
        meta["发文机关"] = issuer
    dates = _DATE.findall(text)
    if dates:
        meta["成文日期"] = search_form(dates[0])
    kind = _kind(title, text)
    if kind:
        meta["文种"] = kind
    addressee = _addressee(text)
    if addressee:
        meta["主送"] = addressee
    for field, pattern in _WRITTEN_AS:
        match = pattern.search(text)
        if match:
            meta[field] = match.group(1).strip()
    return meta


def drop_empty(meta: dict[str, str]) -> dict[str, str]:
    """The fields that have a value, in order.

    Example:
        >>> drop_empty({"文号": "", "title": "规划"})
        {'title': '规划'}
    """
    return {key: value for key, value in meta.items() if value}


def field_source(text: str, field: str, value: str, start: int = 0) -> tuple[int, int] | None:
    r"""Where in ``text`` (from ``start``) a filing field's value is written, with one line of
    context either side: the span a citation of that field points at. None when the text does not
    give the value (a sidecar set it).

    The occurrence is the one :func:`extract_metadata` reads: a 成文日期 on a line of its own (the
    signature), a 印发日期 followed by 印发, any other field's first mention.

    Example:
        >>> t = "正文提到2023年6月20日。\n\n温州市科学技术局\n\n2023年6月20日\n\n办公室2023年6月21日印发"
        >>> s, e = field_source(t, "成文日期", "2023年6月20日")
        >>> t[s:e]
        '温州市科学技术局\n\n2023年6月20日\n\n办公室2023年6月21日印发'
        >>> s, e = field_source(t, "印发日期", "2023年6月21日"); t[s:e]
        '2023年6月20日\n\n办公室2023年6月21日印发'
        >>> field_source(t, "抄送", "市府办") is None
        True
    """
    if not value:
        return None
    if field == "成文日期":
        pattern = rf"^[ \t]*{re.escape(value)}[ \t]*$"
    elif field == "印发日期":
        pattern = rf"{re.escape(value)}\s*印发"
    else:
        pattern = re.escape(value)
    match = re.compile(pattern, re.M).search(text, start)
    if not match:
        return None
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]*\S[^\n]*", text)]
    at = next(i for i, (a, b) in enumerate(lines) if b > match.start())
    first, last = max(at - 1, 0), min(at + 1, len(lines) - 1)
    return max(lines[first][0], start), lines[last][1]


def _addressee(text: str) -> str:
    """The 主送 line: the first short header line that ends with a colon (``周杰代表：``)."""
    for line in [l.strip() for l in text.split("\n")[: _HEADER_LINES * 3] if l.strip()]:
        match = _SALUTATION.match(line)
        if match and not line.startswith(("附件", "抄送")) and box_key(line) is None and not law_part(line) \
                and heading_level(line) is None and not _CRAWL_FIELD.match(line):
            return match.group(1)
    return ""


def read_sidecar(path: Path) -> dict[str, str]:
    """Read the staff-maintained sidecar ``<path>.meta.json`` if there is one.

    Raises:
        CorpusError: the sidecar is over :data:`MAX_SIDECAR_BYTES`, is not a JSON object of known
            string fields, or has a field over :data:`MAX_META_CHARS` characters.
    """
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return {}
    size = sidecar.stat().st_size
    if size > MAX_SIDECAR_BYTES:
        raise CorpusError(f"{sidecar.name}: {size} bytes, over the {MAX_SIDECAR_BYTES} byte limit for a sidecar; "
                          "keep only the filing fields in it")
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{sidecar.name}: not valid UTF-8 JSON ({exc}); fix or delete the sidecar") from exc
    except RecursionError as exc:
        raise CorpusError(f"{sidecar.name}: nested too deeply; write it as a flat JSON object like "
                          "{\"title\": \"…\"}") from exc
    if not isinstance(data, dict):
        raise CorpusError(f"{sidecar.name}: must be a JSON object like {{\"title\": \"…\"}}")
    unknown = set(data) - set(META_FIELDS)
    if unknown or not all(isinstance(v, str) for v in data.values()):
        raise CorpusError(
            f"{sidecar.name}: fields must be strings among {', '.join(META_FIELDS)}; found {sorted(data)}"
        )
    too_long = sorted(key for key, value in data.items() if len(value) > MAX_META_CHARS)
    if too_long:
        raise CorpusError(f"{sidecar.name}: {', '.join(too_long)} longer than {MAX_META_CHARS} characters; shorten it")
    return data

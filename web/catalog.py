"""The document library as staff see it: the table, the filing-field filter of the chat, and the
ingest report in Chinese (pure functions, no web framework)."""

from __future__ import annotations

import re
from typing import Any, Collection, Mapping

from index.build import BuildReport
from ingest.types import Document

LIBRARY_HEADERS = ["标题", "文号", "发文机关", "日期", "文种", "段落数", "文件"]
LIBRARY_WIDTHS = ["30%", "16%", "17%", "10%", "8%", "7%", "12%"]  # every column on screen; long titles wrap
_YEAR = re.compile(r"(?:19|20)\d{2}")


def issuers(document: Document) -> list[str]:
    """The issuing bodies of a document (co-issuers split).

    Example:
        >>> issuers(Document("a", "a", "T", "", "0", {"发文机关": "温岭市发展和改革委员会、温岭市科学技术局"}))
        ['温岭市发展和改革委员会', '温岭市科学技术局']
    """
    value = (document.meta or {}).get("发文机关", "")
    return [part.strip() for part in re.split(r"[、，,；;\s]+", value) if part.strip()]


def document_year(document: Document) -> str:
    """The year a document was written (from its 成文日期), '' when unknown.

    Example:
        >>> document_year(Document("a", "a", "T", "", "0", {"成文日期": "2023年6月29日"}))
        '2023'
    """
    found = _YEAR.search((document.meta or {}).get("成文日期", ""))
    return found.group(0) if found else ""


def filter_choices(documents: Mapping[str, Document]) -> dict[str, list[str]]:
    """The values the chat's filter offers: 发文机关, 年份 (newest first) and 文种 found in the documents.

    Example:
        >>> docs = {"a": Document("a", "a", "T", "", "0", {"发文机关": "甲局", "成文日期": "2021年1月1日", "文种": "通知"})}
        >>> filter_choices(docs)
        {'发文机关': ['甲局'], '年份': ['2021'], '文种': ['通知']}
    """
    found_issuers = sorted({name for d in documents.values() for name in issuers(d)})
    years = sorted({document_year(d) for d in documents.values()} - {""}, reverse=True)
    kinds = sorted({(d.meta or {}).get("文种", "") for d in documents.values()} - {""})
    return {"发文机关": found_issuers, "年份": years, "文种": kinds}


def filtered_doc_ids(
    documents: Mapping[str, Document],
    by_issuer: Collection[str] = (),
    by_year: Collection[str] = (),
    by_kind: Collection[str] = (),
    chosen: Collection[str] = (),
) -> list[str] | None:
    """The documents a question is limited to: those chosen by id (all when none) that match every
    filing filter given (any value of each). ``None`` when nothing limits the search; an empty list
    when the filters match no document.

    Example:
        >>> docs = {"a": Document("a", "a", "T", "", "0", {"文种": "通知"}), "b": Document("b", "b", "T", "", "0", {"文种": "答复函"})}
        >>> filtered_doc_ids(docs, by_kind=["答复函"]), filtered_doc_ids(docs), filtered_doc_ids(docs, by_year=["1999"])
        (['b'], None, [])
    """
    if not (by_issuer or by_year or by_kind or chosen):
        return None
    found = []
    for doc_id in sorted(chosen or documents):
        document = documents.get(doc_id)
        if document is None:
            continue
        if by_issuer and not set(issuers(document)) & set(by_issuer):
            continue
        if by_year and document_year(document) not in by_year:
            continue
        if by_kind and (document.meta or {}).get("文种", "") not in by_kind:
            continue
        found.append(doc_id)
    return found


def sortable_date(date: str) -> str:
    """A 成文日期 written so that sorting the column as text sorts it by date (``2023-06-29``).

    Example:
        >>> sortable_date("2023年6月29日"), sortable_date("2021年12月"), sortable_date("不详")
        ('2023-06-29', '2021-12', '不详')
    """
    found = re.match(r"^\s*((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?", date)
    if not found:
        return date
    year, month, day = found.groups()
    return f"{year}-{int(month):02d}" + (f"-{int(day):02d}" if day else "")


def library_rows(documents: Mapping[str, Document], counts: Mapping[str, int]) -> list[list[Any]]:
    """Rows of the library table (:data:`LIBRARY_HEADERS`), newest first: title, 文号, 发文机关, 成文日期, 文种,
    chunks, and the file name last (what staff recognise comes first; the name is often a hash).

    Example:
        >>> d = Document("x.txt", "x", "规划", "", "0", {"文号": "温科〔2023〕1号", "成文日期": "2023年1月2日"})
        >>> library_rows({"x.txt": d}, {"x.txt": 3})
        [['规划', '温科〔2023〕1号', '', '2023-01-02', '', 3, 'x.txt']]
    """
    def row(d: Document) -> list[Any]:
        meta = d.meta or {}
        return [d.title or d.doc_id, meta.get("文号", ""), meta.get("发文机关", ""), sortable_date(meta.get("成文日期", "")),
                meta.get("文种", ""), counts.get(d.doc_id, 0), d.doc_id]

    ordered = sorted(documents.values(), key=lambda d: (document_year(d), d.title), reverse=True)
    return [row(d) for d in ordered]


def report_text(report: BuildReport) -> str:
    """An ingest run in Chinese, for the library tab.

    Example:
        >>> print(report_text(BuildReport(files=5, chunks=40, embedded=3, reused=37, seconds=1.25, added=("新.txt",))))
        已索引 5 个文件，共 40 个段落（新生成向量 3 段，沿用 37 段），用时 1.2 秒。
        新增：新.txt
    """
    if report.nothing_changed and not report.failed:
        return f"索引已是最新：{report.files} 个文件，{report.chunks} 个段落，无需重新生成向量（用时 {report.seconds:.1f} 秒）。"
    summary = (f"已索引 {report.files} 个文件，共 {report.chunks} 个段落（新生成向量 {report.embedded} 段，"
               f"沿用 {report.reused} 段），用时 {report.seconds:.1f} 秒。")
    named = (("新增", report.added), ("更新", report.changed), ("删除", report.removed),
             ("以下文件读取失败，保留了此前索引的版本", report.kept_previous))
    changes = [f"{label}：{'、'.join(names)}" for label, names in named if names]
    return "\n".join([summary, *changes, *(f"未能读取：{error}" for error in report.failed)])

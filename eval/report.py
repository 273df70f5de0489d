"""Evaluation reports: terminal tables, a Markdown report and a self-contained HTML report.

Inputs are the outputs of :func:`eval.metrics.summarize` and :func:`eval.metrics.failures`.
Plots are drawn with matplotlib's Agg renderer through :class:`matplotlib.figure.Figure`
(no pyplot, so the process-wide backend is left alone) and labelled in ASCII only, since the
machine may lack CJK fonts.
"""

from __future__ import annotations

import base64
import html
import io
import unicodedata
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from matplotlib.figure import Figure

from eval.metrics import type_order


def _pct(v: float) -> str:
    return f"{v * 100:.1f}%"


def _dec(v: float) -> str:
    return f"{v:.3f}"


def _whole(v: float) -> str:
    return f"{v:.0f}"


# (summary key, column label, formatter)
METRIC_COLUMNS: tuple[tuple[str, str, Callable[[float], str]], ...] = (
    ("n", "n", _whole),
    ("evidence_hit@1", "ev@1", _pct),
    ("evidence_hit@3", "ev@3", _pct),
    ("evidence_hit@5", "ev@5", _pct),
    ("evidence_hit@10", "ev@10", _pct),
    ("mrr@10", "MRR@10", _dec),
    ("ndcg@10", "nDCG@10", _dec),
    ("answer_accuracy", "acc", _pct),
    ("accuracy_all", "acc+unans", _pct),
    ("citation_precision", "cite prec", _pct),
    ("wrongly_refused", "refused", _pct),
    ("abstention_precision", "abst P", _pct),
    ("abstention_recall", "abst R", _pct),
    ("answer_len_median", "len p50", _whole),
    ("answer_len_p90", "len p90", _whole),
    ("latency_p50_ms", "p50 ms", _whole),
    ("latency_p95_ms", "p95 ms", _whole),
)
"""Every metric column of the per-group tables."""

_TERMINAL_KEYS = (
    "n", "evidence_hit@1", "evidence_hit@5", "mrr@10", "ndcg@10", "answer_accuracy",
    "accuracy_all", "citation_precision", "wrongly_refused", "abstention_recall",
    "answer_len_median", "latency_p95_ms",
)
_COMPARISON_KEYS = (
    "evidence_hit@1", "evidence_hit@5", "mrr@10", "answer_accuracy", "wrongly_refused",
    "abstention_recall", "answer_len_median", "latency_p95_ms",
)
_HEADLINE_LABELS = {
    "n": "questions", "evidence_hit@1": "evidence @1", "evidence_hit@3": "evidence @3",
    "evidence_hit@5": "evidence @5", "evidence_hit@10": "evidence @10", "mrr@10": "MRR@10",
    "ndcg@10": "nDCG@10", "answer_accuracy": "answer accuracy (answerable)",
    "accuracy_all": "accuracy incl. unanswerable", "citation_precision": "citation precision",
    "wrongly_refused": "wrongly refused", "abstention_precision": "abstention precision",
    "abstention_recall": "abstention recall", "answer_len_median": "answer length median",
    "answer_len_p90": "answer length p90", "latency_p50_ms": "latency p50 (ms)",
    "latency_p95_ms": "latency p95 (ms)",
}
_COLUMNS = {key: (label, fmt) for key, label, fmt in METRIC_COLUMNS}


def _cell(group: Mapping[str, Any], key: str) -> str:
    value = group.get(key)
    return "-" if value is None else _COLUMNS[key][1](float(value))


def _overall(summary: Mapping[str, Any]) -> Mapping[str, Any]:
    return summary.get("overall", summary)


def _groups(summary: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """``(name, metrics)`` rows: overall, each type, then the slices."""
    by_type = summary.get("by_type", {})
    rows = [("overall", _overall(summary))]
    rows += [(t, by_type[t]) for t in type_order(by_type)]
    rows += [(f"[{name}]", group) for name, group in summary.get("slices", {}).items()]
    return rows


def _width(text: str) -> int:
    """Terminal width of ``text`` (East Asian wide characters take two columns)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [cells[0] + " " * (widths[0] - _width(cells[0]))]
        parts += [" " * (w - _width(c)) + c for c, w in zip(cells[1:], widths[1:])]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def format_summary_table(summary: Mapping[str, Any]) -> str:
    """Return a compact plain-text table of the headline metrics for the terminal.

    One row for the whole run, one per question type and one per slice (in brackets).

    Example:
        >>> table = format_summary_table({"overall": {"n": 2, "answer_accuracy": 0.5}})
        >>> table.splitlines()[2].split()
        ['overall', '2', '-', '-', '-', '-', '50.0%', '-', '-', '-', '-', '-', '-']
    """
    header = ["group", *(_COLUMNS[k][0] for k in _TERMINAL_KEYS)]
    rows = [[name, *(_cell(g, k) for k in _TERMINAL_KEYS)] for name, g in _groups(summary)]
    return _text_table(header, rows)


def format_comparison_table(named_summaries: Mapping[str, Mapping[str, Any]]) -> str:
    """Return a plain-text table comparing runs, one row per configuration.

    Columns: evidence @1 and @5, MRR@10, answer accuracy, wrongly refused, abstention
    recall, median answer length and p95 latency, all of the ``overall`` group.

    Example:
        >>> print(format_comparison_table({"bm25": {"overall": {"mrr@10": 0.5}}}))
        ... # doctest: +NORMALIZE_WHITESPACE
        config  ev@1  ev@5  MRR@10  acc  refused  abst R  len p50  p95 ms
        ------  ----  ----  ------  ---  -------  ------  -------  ------
        bm25       -     -   0.500    -        -       -        -       -
    """
    header = ["config", *(_COLUMNS[k][0] for k in _COMPARISON_KEYS)]
    rows = [
        [name, *(_cell(_overall(s), k) for k in _COMPARISON_KEYS)]
        for name, s in named_summaries.items()
    ]
    return _text_table(header, rows)


# ---------------------------------------------------------------- plots


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii")


def _png_base64(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _bar_plot(summary: Mapping[str, Any]) -> str:
    by_type = summary.get("by_type", {})
    types = type_order(by_type)
    fig = Figure(figsize=(7, 3.6))
    ax = fig.add_subplot()
    xs = range(len(types))
    for shift, key, label in ((-0.2, "accuracy_all", "answer accuracy"),
                              (0.2, "evidence_hit@5", "evidence @5")):
        values = [by_type[t].get(key) for t in types]
        bars = ax.bar([x + shift for x in xs], [v or 0.0 for v in values], width=0.4, label=label)
        ax.bar_label(bars, labels=["n/a" if v is None else f"{v:.0%}" for v in values], fontsize=7)
    ax.set_xticks(list(xs), [_ascii(t) for t in types], rotation=20)
    ax.set_ylim(0, 1.25)
    ax.set_ylabel("share of questions")
    ax.set_title("Per question type (unanswerable: accuracy = correct abstention)", fontsize=10)
    ax.legend(loc="upper left", ncol=2, fontsize=8)
    return _png_base64(fig)


def _histogram(values: Sequence[float], title: str, xlabel: str) -> str:
    fig = Figure(figsize=(6, 3.2))
    ax = fig.add_subplot()
    if values:
        ax.hist(list(values), bins=min(30, max(5, len(values) // 3)), color="#4a78b0")
    else:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("questions")
    return _png_base64(fig)


def _plots(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    dist = summary.get("distributions", {})
    return [
        ("Answer accuracy and evidence@5 per type", _bar_plot(summary)),
        ("Latency", _histogram(dist.get("latency_ms", []), "Latency", "ms per question")),
        ("Answer length", _histogram(dist.get("answer_len", []), "Answer length",
                                     "characters (answered questions)")),
    ]


# ---------------------------------------------------------------- markdown


def _md(text: Any) -> str:
    """Inline Markdown text: HTML-escaped, table pipes escaped, line breaks flattened."""
    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(_md(c) for c in r) + " |" for r in rows]


def _group_rows(groups: Sequence[tuple[str, Mapping[str, Any]]]) -> list[list[str]]:
    return [[name, *(_cell(g, k) for k, _, _ in METRIC_COLUMNS)] for name, g in groups]


def _rank_text(rank: Any) -> str:
    return "not retrieved" if rank is None else str(rank)


def _failure_fields(f: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(label, text)`` pairs describing one failure, in display order."""
    fields = [("question", f.get("question", ""))]
    if f.get("history"):
        fields.append(("history", " / ".join(f["history"])))
    if f.get("searched_question"):
        fields.append(("searched as", f["searched_question"]))
    expected = " ; ".join(f.get("expected") or []) or "(abstain)"
    fields.append((f"expected ({f.get('answer_mode', 'any')})", expected))
    fields.append(("evidence", " ; ".join(f.get("evidence") or []) or "-"))
    answer = f.get("answer") or ""
    fields.append(("answer given", ("[abstained] " if f.get("abstained") else "") + answer))
    fields.append(("evidence rank", _rank_text(f.get("evidence_rank"))))
    scoring = f.get("scoring")
    if scoring:
        chose = ", ".join(f"{name} {value:+.2f}" for name, value in list(scoring["contributions"].items())[:5])
        confidence = "" if scoring.get("confidence") is None else f"; confidence {scoring['confidence']:.2f}"
        fields.append(("chosen because", f"score {scoring['score']:.2f} = {chose}{confidence}"))
    return fields


def _markdown(summary: Mapping[str, Any], failures: Sequence[Mapping[str, Any]],
              title: str) -> str:
    overall = _overall(summary)
    lines = [f"# {_md(title)}", ""]
    lines.append(f"Questions: {summary.get('n_cases', overall.get('n'))}, result rows: "
                 f"{summary.get('n_rows', overall.get('n'))}, failures listed: {len(failures)}.")
    for key, label in (("missing_ids", "Missing results"), ("unknown_ids", "Unknown ids")):
        if summary.get(key):
            lines.append(f"\n{label}: {_md(', '.join(summary[key]))}")
    lines += ["", "## Headline figures", ""]
    lines += _md_table(["metric", "value"],
                       [[_HEADLINE_LABELS[k], _cell(overall, k)] for k, _, _ in METRIC_COLUMNS])
    header = ["group", *(label for _, label, _ in METRIC_COLUMNS)]
    by_type = summary.get("by_type", {})
    lines += ["", "## By question type", ""]
    lines += _md_table(header, _group_rows([(t, by_type[t]) for t in type_order(by_type)]))
    lines += ["", "## Slices", ""]
    lines += _md_table(header, _group_rows(list(summary.get("slices", {}).items())))
    lines += ["", f"## Failures ({len(failures)})", ""]
    for f in failures:
        reasons = ", ".join(f.get("reasons") or [])
        lines += [f"### {_md(f.get('id'))} ({_md(f.get('type'))}): {_md(reasons)}", ""]
        lines += [f"- **{_md(label)}**: {_md(text)}" for label, text in _failure_fields(f)]
        lines.append("- **top retrieved**:")
        for i, r in enumerate(f.get("top_retrieved") or [], start=1):
            lines.append(f"    {i}. `{_md(r.get('doc', ''))}` {_md(r.get('text', ''))}")
        lines.append("")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- html

_CSS = """body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;
margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{border:1px solid #ccc;
padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
th{background:#f0f3f7}.failure{border-top:1px solid #ddd;padding:0.4em 0}
.failure dt{font-weight:bold;float:left;clear:left;width:9em}.failure dd{margin-left:10em}
.reason{color:#a33}ol.top li{font-size:90%;margin:2px 0}code{background:#f4f4f4}
img{max-width:100%;margin:0.5em 1em 0.5em 0}"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html(summary: Mapping[str, Any], failures: Sequence[Mapping[str, Any]], title: str,
          plots: Sequence[tuple[str, str]]) -> str:
    overall = _overall(summary)
    header = ["group", *(label for _, label, _ in METRIC_COLUMNS)]
    by_type = summary.get("by_type", {})
    parts = [f"<!DOCTYPE html><html lang=\"zh\"><head><meta charset=\"utf-8\">"
             f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{_e(title)}</h1>",
             f"<p>Questions: {_e(summary.get('n_cases', overall.get('n')))}, result rows: "
             f"{_e(summary.get('n_rows', overall.get('n')))}, failures listed: "
             f"{len(failures)}.</p>"]
    for key, label in (("missing_ids", "Missing results"), ("unknown_ids", "Unknown ids")):
        if summary.get(key):
            parts.append(f"<p>{label}: {_e(', '.join(summary[key]))}</p>")
    parts.append("<h2>Headline figures</h2>")
    parts.append(_html_table(["metric", "value"], [[_HEADLINE_LABELS[k], _cell(overall, k)]
                                                   for k, _, _ in METRIC_COLUMNS]))
    parts.append("<h2>By question type</h2>")
    parts.append(_html_table(header, _group_rows([(t, by_type[t]) for t in type_order(by_type)])))
    parts.append("<h2>Slices</h2>")
    parts.append(_html_table(header, _group_rows(list(summary.get("slices", {}).items()))))
    parts.append("<h2>Plots</h2><div>")
    parts += [f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">' for alt, data in plots]
    parts.append(f"</div><h2>Failures ({len(failures)})</h2>")
    for f in failures:
        reasons = ", ".join(f.get("reasons") or [])
        parts.append(f'<div class="failure" id="{_e(f.get("id"))}"><h3>{_e(f.get("id"))} '
                     f'({_e(f.get("type"))}) <span class="reason">{_e(reasons)}</span></h3><dl>')
        parts += [f"<dt>{_e(label)}</dt><dd>{_e(text)}</dd>" for label, text in _failure_fields(f)]
        items = "".join(f"<li><code>{_e(r.get('doc', ''))}</code> {_e(r.get('text', ''))}</li>"
                        for r in f.get("top_retrieved") or [])
        parts.append(f'<dt>top retrieved</dt><dd><ol class="top">{items}</ol></dd></dl></div>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(out_dir: Path, summary: dict, failures: list[dict],
                 title: str = "评测报告") -> tuple[Path, Path]:
    """Write ``report.md`` and a self-contained ``report.html`` into ``out_dir``.

    Both hold the headline figures, the per-type and slice tables and every failure
    (question, expected answer, answer given, evidence rank, top retrieved passages). The
    HTML escapes all text and embeds three PNG plots as base64: accuracy and evidence@5 per
    type, a latency histogram and an answer-length histogram (from
    ``summary["distributions"]``).

    Args:
        out_dir: folder to write to (created if missing).
        summary: output of :func:`eval.metrics.summarize`.
        failures: output of :func:`eval.metrics.failures`.
        title: report title.

    Returns:
        ``(markdown_path, html_path)``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path, html_path = out_dir / "report.md", out_dir / "report.html"
    md_path.write_text(_markdown(summary, failures, title), encoding="utf-8")
    html_path.write_text(_html(summary, failures, title, _plots(summary)), encoding="utf-8")
    return md_path, html_path

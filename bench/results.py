"""Result rows of a benchmark run: targets, measured figures, PASS/MISS/N/A, and their output
as a console table, JSON and Markdown. Pure Python, no Django, no database."""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

PASS = "PASS"
MISS = "MISS"
NA = "N/A"

_OPS = {"<": operator.lt, "<=": operator.le, ">=": operator.ge, ">": operator.gt, "==": operator.eq}


@dataclass
class Check:
    """One target: `measured op limit`, e.g. p95 at 16 users < 100 ms.

    `measured` None means the figure could not be taken (the check fails: a target that was
    not measured is not met)."""

    label: str
    op: str
    limit: float
    measured: float | None
    unit: str = ""

    def __post_init__(self):
        if self.op not in _OPS:
            raise ValueError(f"unknown operator {self.op!r}")

    @property
    def passed(self) -> bool:
        if self.measured is None or (
            isinstance(self.measured, float) and math.isnan(self.measured)
        ):
            return False
        return _OPS[self.op](self.measured, self.limit)

    def target_text(self) -> str:
        return f"{self.label} {self.op} {fmt(self.limit)}{self.unit}"

    def measured_text(self) -> str:
        return f"{fmt(self.measured)}{self.unit}" if self.measured is not None else "-"


@dataclass
class Row:
    """One line of the report. `unavailable` holds the reason when the thing measured does
    not exist yet (a URL that does not resolve, an importer not written): the row is N/A
    and carries no number at all."""

    section: str
    name: str
    figures: dict[str, float | int | str | None] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    unavailable: str = ""
    notes: str = ""

    @property
    def status(self) -> str:
        if self.unavailable:
            return NA
        if not self.checks:
            return NA
        return PASS if all(c.passed for c in self.checks) else MISS

    def target_text(self) -> str:
        return "; ".join(c.target_text() for c in self.checks) if self.checks else ""

    def measured_text(self) -> str:
        if self.unavailable:
            return f"not available: {self.unavailable}"
        return "; ".join(c.measured_text() for c in self.checks)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["status"] = self.status
        for check, raw in zip(self.checks, out["checks"], strict=True):
            raw["passed"] = check.passed
        return out


def fmt(value) -> str:
    """Numbers the way a reader scans them: 3 significant figures, thousands separated."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        digits = max(0, 2 - int(math.floor(math.log10(abs(value)))))
        return f"{value:.{digits}f}"
    return str(value)


def percentile(samples: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation, as numpy's default; None when
    there are no samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    if len(ordered) == 1:
        return float(ordered[0])
    pos = (len(ordered) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))


def summary(rows: Iterable[Row]) -> dict[str, int]:
    counts = {PASS: 0, MISS: 0, NA: 0}
    for row in rows:
        counts[row.status] += 1
    return counts


# ---- output ---------------------------------------------------------------------------------


def _columns(rows: list[Row]) -> list[str]:
    """Figure names in first-seen order, so each section's columns stay together."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row.figures:
            seen.setdefault(key, None)
    return list(seen)


def _sections(rows: list[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for row in rows:
        out.setdefault(row.section, []).append(row)
    return out


def text_table(rows: list[Row]) -> str:
    """The console table: one block per section, aligned columns."""
    blocks = []
    for section, members in _sections(rows).items():
        cols = _columns(members)
        header = ["", *cols, "target", "status"]
        lines = [header]
        for row in members:
            if row.unavailable:
                cells = [row.name, *([""] * len(cols)), f"not available: {row.unavailable}", NA]
            else:
                cells = [row.name, *(fmt(row.figures.get(c)) for c in cols)]
                cells += [row.target_text(), row.status]
            lines.append(cells)
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
        # The reason of an N/A row may be long; do not let it widen the whole block.
        widths[-2] = min(widths[-2], 60)
        text = [f"== {section}"]
        for line in lines:
            text.append(
                "  ".join(
                    str(cell).ljust(w) if i == 0 or i >= len(header) - 2 else str(cell).rjust(w)
                    for i, (cell, w) in enumerate(zip(line, widths, strict=True))
                ).rstrip()
            )
        blocks.append("\n".join(text))
    counts = summary(rows)
    blocks.append(f"{counts[PASS]} PASS, {counts[MISS]} MISS, {counts[NA]} N/A")
    return "\n\n".join(blocks)


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(rows: list[Row], *, title: str, meta: dict[str, str], preamble: str = "") -> str:
    out = [f"# {title}", ""]
    if preamble:
        out += [preamble, ""]
    out += ["| | |", "| --- | --- |"]
    out += [f"| {_md_escape(k)} | {_md_escape(v)} |" for k, v in meta.items()]
    counts = summary(rows)
    out += ["", f"**{counts[PASS]} PASS, {counts[MISS]} MISS, {counts[NA]} N/A**", ""]
    misses = [r for r in rows if r.status == MISS]
    if misses:
        out += ["Misses:", ""]
        for row in misses:
            failed = [c for c in row.checks if not c.passed]
            why = "; ".join(
                f"{c.label} {c.measured_text()} (target {c.op} {fmt(c.limit)}{c.unit})"
                for c in failed
            )
            out.append(f"- {row.section} / {_md_escape(row.name)}: {_md_escape(why)}")
        out.append("")
    for section, members in _sections(rows).items():
        cols = _columns(members)
        out += [f"## {section}", ""]
        out.append("| | " + " | ".join(cols) + " | target | status | notes |")
        out.append("| --- |" + " ---: |" * len(cols) + " --- | --- | --- |")
        for row in members:
            if row.unavailable:
                cells = [""] * len(cols) + ["", NA, f"not available: {row.unavailable}"]
            else:
                cells = [fmt(row.figures.get(c)) for c in cols]
                cells += [row.target_text(), f"**{row.status}**", row.notes]
            out.append("| " + " | ".join(_md_escape(c) for c in [row.name, *cells]) + " |")
        out.append("")
    return "\n".join(out)


def write(
    rows: list[Row], *, directory: Path, stem: str, title: str, meta: dict, preamble: str = ""
) -> tuple[Path, Path]:
    """Write `<stem>.json` and `<stem>.md` under `directory`; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / f"{stem}.json"
    md_path = directory / f"{stem}.md"
    payload = {"meta": meta, "summary": summary(rows), "rows": [r.to_dict() for r in rows]}
    json_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    md_path.write_text(markdown(rows, title=title, meta=meta, preamble=preamble))
    return json_path, md_path

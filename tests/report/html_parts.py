"""Read back what the report page shows: KPI cards, "not computed" lines, chart keys, tables."""

from __future__ import annotations

from html.parser import HTMLParser


class ReportPage(HTMLParser):
    """Collects the KPI cards (key -> data-value, shown text), missing lines, chart keys and
    tables (``tables[key]``: one list per row, the header row empty; ``headers[key]``)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.kpis: dict[str, dict[str, str]] = {}
        self.missing: dict[str, str] = {}
        self.charts: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.headers: dict[str, list[str]] = {}
        self.notes: dict[str, str] = {}
        self._note: str | None = None
        self._kpi: str | None = None
        self._span: str | None = None
        self._missing: str | None = None
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(html)
        self.missing = {k: " ".join(v.split()) for k, v in self.missing.items()}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "data-kpi" in a:
            self._kpi = a["data-kpi"] or ""
            self.kpis[self._kpi] = {"value": a.get("data-value") or "", "text": "", "detail": ""}
        elif tag == "span" and self._kpi and a.get("class") in ("value", "detail"):
            self._span = "text" if a["class"] == "value" else "detail"
        elif "data-missing" in a:
            self._missing = a["data-missing"] or ""
            self.missing[self._missing] = ""
        elif "data-table-note" in a:
            self._note = a["data-table-note"] or ""
            self.notes[self._note] = ""
        elif "data-chart" in a:
            self.charts.append(a["data-chart"] or "")
        elif "data-table" in a:
            self._table = a["data-table"] or ""
            self.tables[self._table] = []
            self.headers[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._span = None
        elif tag == "p" and self._missing is not None:
            self._missing = None
        elif tag == "table":
            self._table = None
        elif tag == "td" and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "th" and self._cell is not None and self._table:
            self.headers[self._table].append("".join(self._cell))
            self._cell = None
        elif tag == "div" and self._kpi:
            self._kpi = None
        elif tag == "div" and self._note is not None:
            self._note = None

    def handle_data(self, data: str) -> None:
        if self._kpi and self._span:
            self.kpis[self._kpi][self._span] += data.strip()
        if self._missing is not None:
            self.missing[self._missing] += " " + data
        if self._cell is not None:
            self._cell.append(data)
        if self._note is not None:
            self.notes[self._note] += data


def column(page: ReportPage, table: str, name: str) -> list[str]:
    """The shown values of one column of a report table."""
    i = page.headers[table].index(name)
    return [row[i] for row in page.tables[table] if row]

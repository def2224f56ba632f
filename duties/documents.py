"""The documents the duties hand over: one builder, written as HTML, PDF (ReportLab) and CSV.

A Woo decision, a vernietigingslijst, a verklaring van vernietiging and the monthly report
are all the same shape: a title, a few facts, headings, paragraphs and tables. Each duty
builds a `Document`; this module alone knows how it is rendered, so every PDF the archive
hands out looks alike.
"""
from __future__ import annotations

import csv
import hashlib
import html
import json
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle


@dataclass
class Document:
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)   # label, value: under the title
    parts: list[tuple] = field(default_factory=list)
    wide: bool = False                                            # landscape, for wide tables

    def heading(self, text: str) -> "Document":
        self.parts.append(("heading", text))
        return self

    def paragraph(self, text: str) -> "Document":
        self.parts.append(("paragraph", text))
        return self

    def table(self, header: list[str], rows: list[list]) -> "Document":
        self.parts.append(("table", list(header), [["" if c is None else str(c) for c in r] for r in rows]))
        return self

    # -- HTML ---------------------------------------------------------------------------
    def to_html(self) -> str:
        e = html.escape
        out = ["<!doctype html>", '<html lang="nl"><head><meta charset="utf-8">', f"<title>{e(self.title)}</title>",
               "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}"
               "table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.2em .4em;"
               "vertical-align:top;text-align:left}th{background:#eee}</style></head><body>",
               f"<h1>{e(self.title)}</h1>"]
        if self.facts:
            out.append("<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in self.facts) + "</dl>")
        for part in self.parts:
            if part[0] == "heading":
                out.append(f"<h2>{e(part[1])}</h2>")
            elif part[0] == "paragraph":
                out.append(f"<p>{e(part[1])}</p>")
            else:
                _, header, rows = part
                out.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr></thead><tbody>"
                           + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
                           + "</tbody></table>")
        out.append("</body></html>")
        return "\n".join(out)

    # -- PDF ----------------------------------------------------------------------------
    def to_pdf(self, path: Path) -> Path:
        styles = getSampleStyleSheet()
        cell = styles["BodyText"].clone("cell", fontSize=7.5, leading=9)
        size = landscape(A4) if self.wide else A4
        doc = SimpleDocTemplate(str(path), pagesize=size, title=self.title, leftMargin=15 * mm,
                                rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm)
        flow = [Paragraph(_x(self.title), styles["Title"])]
        for k, v in self.facts:
            flow.append(Paragraph(f"<b>{_x(k)}</b>: {_x(v)}", styles["BodyText"]))
        for part in self.parts:
            if part[0] == "heading":
                flow += [Spacer(1, 4 * mm), Paragraph(_x(part[1]), styles["Heading2"])]
            elif part[0] == "paragraph":
                flow.append(Paragraph(_x(part[1]), styles["BodyText"]))
            else:
                _, header, rows = part
                data = [[Paragraph(f"<b>{_x(h)}</b>", cell) for h in header]]
                data += [[Paragraph(_x(c), cell) for c in r] for r in rows]
                width = (size[0] - 30 * mm) / max(1, len(header))
                t = Table(data, colWidths=[width] * len(header), repeatRows=1)
                t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                                       ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                                       ("VALIGN", (0, 0), (-1, -1), "TOP")]))
                flow.append(t)
        doc.build(flow)
        return path

    def write(self, out_dir: Path, stem: str) -> list[Path]:
        """`stem`.html and `stem`.pdf in `out_dir`."""
        out_dir.mkdir(parents=True, exist_ok=True)
        html_path = out_dir / f"{stem}.html"
        html_path.write_text(self.to_html(), encoding="utf-8")
        return [html_path, self.to_pdf(out_dir / f"{stem}.pdf")]


def _x(text: str) -> str:
    """ReportLab paragraphs take a little XML: escape everything, keep line breaks."""
    return html.escape(str(text), quote=False).replace("\n", "<br/>")


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(out_dir: Path, files: list[Path], **about) -> Path:
    """manifest.json: `about` and a SHA-256 and size per file (paths relative to `out_dir`)."""
    entries = [{"path": p.relative_to(out_dir).as_posix(), "sha256": sha256_file(p), "bytes": p.stat().st_size}
               for p in sorted(files)]
    path = out_dir / "manifest.json"
    path.write_text(json.dumps({**about, "files": entries}, indent=2, ensure_ascii=False, default=str) + "\n",
                    encoding="utf-8")
    return path

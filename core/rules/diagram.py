"""The team's flow chart, generated from the rule definitions so it cannot drift.

Part 1 is the rule chain (RULES in evaluation order, each question with what follows).
Part 2 runs the three example threads of core/rules/scenarios.py through the real
engine and thread state, and shows per item the consequences for veiligstellen
(securing), archiveren, openbaar maken and overbrengen (transfer to the archive
institution), with the selectielijst that is configured. Output: Mermaid source and
a self-contained SVG (no browser or Graphviz needed).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape

from archiefstroom.core.rules import engine, holds, scenarios
from archiefstroom.core.rules.registry import Registry

ASPECTS = ("veiligstellen", "archiveren", "openbaar maken", "overbrengen")


@dataclass
class Row:
    label: str
    rule: str
    consequences: dict[str, str]


def _overbrengen(ret: dict | None, sl) -> str:
    if not ret:
        return "n.v.t."
    if ret["retention_class"] == "B":
        return f"ja: B, blijvend bewaren ({ret['category']})"
    years = sl.categories[ret["category"]].years
    return f"nee: V, vernietigen na {years} jaar ({ret['category']})"


def _publish(record: dict, verdict: engine.Verdict) -> str:
    d = record["decision"]
    if not d["publishable"]:
        return "niet zonder beoordeling (inhoud derde)"
    if verdict.facts.author_role in engine.PRIVATE_AUTHORS or holds.CONTEXT in d["flags"]:
        return "alleen na pseudonimisering en Woo-toets"
    return "ja, na Woo-toets"


def _row(label: str, verdict: engine.Verdict, outs: list[holds.Out], sl, window_h: float) -> Row:
    mine = [o for o in outs if (o.record or {}).get("event", {}).get("event_id") == label[1]
            or (o.disposition is not None and o.disposition.event_id == label[1])]
    rec = next((o.record for o in mine if o.record is not None), None)
    disp = next((o.disposition for o in mine if o.disposition is not None), None)
    if verdict.action == "archive" and not verdict.via_thread:
        rec = engine.apply(scenarios.record(verdict_event(verdict, label)), verdict)
    if rec is not None:
        c = {"veiligstellen": "ja", "archiveren": f"ja ({verdict.rule})", "openbaar maken": _publish(rec, verdict),
             "overbrengen": _overbrengen(rec["retention"], sl)}
    elif disp is not None and disp.kind == "held":
        ret = verdict.retention.datum() if verdict.retention else None
        when = (f"alleen als de organisatie binnen {window_h:g} uur reageert" if verdict.action == "hold"
                else "alleen als het bericht waaronder het valt de filterhashtag heeft")
        c = {"veiligstellen": f"tijdelijk vastgehouden (max {window_h:g} uur)",
             "archiveren": f"{when} ({verdict.rule})",
             "openbaar maken": "alleen na pseudonimisering en Woo-toets",
             "overbrengen": "indien gearchiveerd: " + _overbrengen(ret, sl)}
    else:
        why = verdict.outcome if disp is None else disp.reason.split(": ", 1)[-1]
        c = {"veiligstellen": "nee" + (" (account melden: verkeerd ingesteld)" if verdict.misconfigured else ""),
             "archiveren": f"nee: {why} ({verdict.rule})", "openbaar maken": "n.v.t.", "overbrengen": "n.v.t."}
    return Row(label[0], verdict.rule, c)


def verdict_event(verdict, label):
    return label[2]


def scenario_rows(reg: Registry, settings) -> list[tuple[str, list[Row]]]:
    window = dt.timedelta(hours=settings.hold_window_hours)
    out = []
    for title, _account, items in scenarios.scenarios():
        states: dict[str, holds.ThreadState] = {}
        rows = []
        for offset, (label, ev) in enumerate(items):
            v = engine.evaluate(ev, reg, settings)
            outs: list[holds.Out] = []
            if v.via_thread:
                rec = engine.apply(scenarios.record(ev, offset), v) if v.action != "drop" else None
                if v.action == "hold":
                    item = holds.ThreadItem("hold", rec, v.rule, v.organisations, ev["created_at"] + window)
                elif v.action == "await_root":
                    item = holds.ThreadItem("await_root", rec, v.rule, (), ev["created_at"] + window,
                                            detail={"waits_for": "root"})
                elif v.rule == "R8-hybrid":
                    disp = None if rec else holds.Disposition(holds.Position("t", 0, offset), "dropped", v.reason,
                                                              ev["event_id"])
                    item = holds.ThreadItem("root", rec, v.rule, matched=rec is not None, disposition=disp)
                else:
                    item = holds.ThreadItem("government", rec, v.rule, detail={"author_org": v.facts.author_org})
                outs = holds.step(states.setdefault(v.facts.thread, holds.ThreadState()), item, window)
            rows.append(_row((label, ev["event_id"], ev), v, outs, reg.selectielijst, settings.hold_window_hours))
        out.append((title, rows))
    return out


# -- Mermaid -------------------------------------------------------------------

def _m(text: str) -> str:
    return escape(text).replace('"', "&quot;")


def mermaid(reg: Registry, settings) -> str:
    lines = ["%% Generated by `archiefstroom rules diagram` from core/rules/engine.py RULES. Do not edit.",
             "flowchart TD", '  start(["gebeurtenis van een platform"])']
    prev, pending_yes = "start", None
    for r in engine.RULES:
        node = r.id.replace("-", "_")
        lines.append(f'  {node}{{"{_m(r.id)}<br/>{_m(r.question)}"}}')
        lines.append(f'  {node}_yes["{_m(r.yes)}"]')
        lines.append(f"  {prev} -->{'|nee|' if prev != 'start' else ''} {node}")
        lines.append(f"  {node} -->|ja| {node}_yes")
        if pending_yes:
            lines.append(f"  {pending_yes} -->|verder| {node}")
        pending_yes = f"{node}_yes" if r.annotates else None
        prev = node
    lines.append('  none["geen regel: niet archiveren (geteld)"]')
    lines.append(f"  {prev} -->|nee| none")
    for i, (title, rows) in enumerate(scenario_rows(reg, settings), 1):
        lines.append(f'  subgraph S{i}["{_m(title)}"]')
        lines.append("    direction TB")
        for j, row in enumerate(rows):
            text = "<br/>".join(f"{a}: {_m(row.consequences[a])}" for a in ASPECTS)
            lines.append(f'    S{i}_{j}["<b>{_m(row.label)}</b> ({_m(row.rule)})<br/>{text}"]')
            if j:
                lines.append(f"    S{i}_{j - 1} --- S{i}_{j}")
        lines.append("  end")
    return "\n".join(lines) + "\n"


# -- SVG -----------------------------------------------------------------------

def _wrap(text: str, width: int) -> list[str]:
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    return lines + ([cur] if cur else [])


def svg(reg: Registry, settings) -> str:
    """A plain SVG: the rule chain on top, one table per scenario below."""
    lh, pad, out = 15, 8, []
    W = 1400
    y = 20
    out.append(f'<text x="{pad}" y="{y}" font-size="18" font-weight="bold">Archiveringsregels (issue 4) — '
               f'gegenereerd uit de regeldefinities</text>')
    y += 20
    qx, qw, ax, aw = 40, 430, 560, 600
    for r in engine.RULES:
        q = _wrap(f"{r.id}: {r.question}", 62)
        a = _wrap(r.yes + (" — daarna verder met de volgende vraag" if r.annotates else ""), 86)
        h = max(len(q), len(a)) * lh + 2 * pad
        out.append(f'<rect x="{qx}" y="{y}" width="{qw}" height="{h}" rx="14" fill="#fff4d6" stroke="#a07800"/>')
        out += [f'<text x="{qx + pad}" y="{y + pad + (i + 1) * lh - 3}">{escape(t)}</text>' for i, t in enumerate(q)]
        out.append(f'<rect x="{ax}" y="{y}" width="{aw}" height="{h}" fill="#e8f1ff" stroke="#3566a8"/>')
        out += [f'<text x="{ax + pad}" y="{y + pad + (i + 1) * lh - 3}">{escape(t)}</text>' for i, t in enumerate(a)]
        out.append(f'<line x1="{qx + qw}" y1="{y + h / 2}" x2="{ax}" y2="{y + h / 2}" stroke="#333" '
                   f'marker-end="url(#arrow)"/><text x="{qx + qw + 30}" y="{y + h / 2 - 4}">ja</text>')
        y += h
        out.append(f'<line x1="{qx + 40}" y1="{y}" x2="{qx + 40}" y2="{y + 18}" stroke="#333" '
                   f'marker-end="url(#arrow)"/><text x="{qx + 48}" y="{y + 13}">nee</text>')
        y += 18
    out.append(f'<rect x="{qx}" y="{y}" width="{qw}" height="{lh + 2 * pad}" fill="#eee" stroke="#666"/>'
               f'<text x="{qx + pad}" y="{y + pad + lh - 3}">geen regel: niet archiveren (geteld)</text>')
    y += lh + 2 * pad + 30
    cols = [("onderdeel", 170), *((a, (W - 2 * pad - 170) // 4) for a in ASPECTS)]
    for title, rows in scenario_rows(reg, settings):
        out.append(f'<text x="{pad}" y="{y}" font-size="16" font-weight="bold">{escape(title)}</text>')
        y += 10
        x = pad
        for name, w in cols:
            out.append(f'<rect x="{x}" y="{y}" width="{w}" height="{lh + 2 * pad}" fill="#3566a8"/>'
                       f'<text x="{x + pad}" y="{y + pad + lh - 3}" fill="#fff" font-weight="bold">{escape(name)}</text>')
            x += w
        y += lh + 2 * pad
        for row in rows:
            cells = [_wrap(f"{row.label} ({row.rule})", 22)] + [_wrap(row.consequences[a], 38) for a in ASPECTS]
            h = max(map(len, cells)) * lh + 2 * pad
            x = pad
            for (name, w), lines in zip(cols, cells):
                fill = "#f4f4f4" if name == "onderdeel" else "#fff"
                out.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}" stroke="#bbb"/>')
                out += [f'<text x="{x + pad}" y="{y + pad + (i + 1) * lh - 3}">{escape(t)}</text>'
                        for i, t in enumerate(lines)]
                x += w
            y += h
        y += 40
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{y}" viewBox="0 0 {W} {y}" '
            f'font-family="DejaVu Sans, Arial, sans-serif" font-size="12">'
            '<defs><marker id="arrow" markerWidth="10" markerHeight="7" refX="10" refY="3.5" orient="auto">'
            '<polygon points="0 0, 10 3.5, 0 7" fill="#333"/></marker></defs>'
            f'<rect width="{W}" height="{y}" fill="#fff"/>')
    return "\n".join([head, *out, "</svg>"]) + "\n"

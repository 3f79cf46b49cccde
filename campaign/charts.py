"""Charts drawn on the server as SVG, so they show without JavaScript and print as they look.

Every label is escaped here; the functions return Markup that a template can place as
it is. Colours are SVG presentation attributes (the Content-Security-Policy forbids
inline style attributes, not these). Each chart has a title and a description for
screen readers, and the pages print the same numbers as text beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import count

from markupsafe import Markup, escape

from contacts.models import Position

POSITION_COLOURS = {
    Position.champion: "#0b5d3b",
    Position.supportive: "#2e8b57",
    Position.leaning_for: "#9ccfa9",
    Position.undecided: "#c9ced6",
    Position.leaning_against: "#f0a79e",
    Position.opposed: "#b3261e",
    Position.unknown: "#eceff3",
}
POSITION_LABELS = {position: position.value.replace("_", " ").capitalize() for position in Position}
_ids = count(1)


def _svg_open(width: int, height: int, title: str, description: str, css_class: str) -> tuple[str, str]:
    chart_id = f"chart-{next(_ids)}"
    head = (f'<svg class="{css_class}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="100%" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">'
            f'<title id="{chart_id}-title">{escape(title)}</title>'
            f'<desc id="{chart_id}-desc">{escape(description)}</desc>')
    return chart_id, head


def stance_bars(groups: Sequence[tuple[str, Mapping[str, int]]], *, title: str, width: int = 560) -> Markup:
    """One horizontal bar per group (a chamber, a party), split by stance, with the counts written in."""
    label_width, bar_height, gap, legend_height = 170, 22, 8, 46
    height = legend_height + max(1, len(groups)) * (bar_height + gap) + 4
    bar_width = width - label_width - 40
    described = "; ".join(
        f"{group}: " + ", ".join(f"{counts[p]} {POSITION_LABELS[p].lower()}" for p in Position if counts.get(p))
        for group, counts in groups) or "No stances recorded yet."
    _, svg = _svg_open(width, height, title, described, "chart chart-stances")
    parts = [svg]
    x, y = 0.0, 4
    for index, position in enumerate(Position):  # the legend, on two lines
        if index == 4:
            x, y = 0.0, 22
        parts.append(f'<rect x="{x:.0f}" y="{y}" width="12" height="12" fill="{POSITION_COLOURS[position]}" '
                     f'stroke="#8a93a3" stroke-width="0.5"/>'
                     f'<text x="{x + 16:.0f}" y="{y + 10}" font-size="11" fill="#1d2433">'
                     f'{escape(POSITION_LABELS[position])}</text>')
        x += 16 + 6.5 * len(POSITION_LABELS[position]) + 16
    if not groups:
        parts.append(f'<text x="0" y="{legend_height + 15}" font-size="13" fill="#5b6577">No stances recorded yet.</text>')
    for row, (group, counts) in enumerate(groups):
        y = legend_height + row * (bar_height + gap)
        total = sum(counts.values()) or 1
        label = group if len(group) <= 26 else group[:25] + "…"
        parts.append(f'<text x="0" y="{y + 15}" font-size="12" fill="#1d2433">{escape(label)}</text>')
        offset = float(label_width)
        for position in Position:
            value = counts.get(position, 0)
            if not value:
                continue
            segment = bar_width * value / total
            parts.append(f'<rect x="{offset:.1f}" y="{y}" width="{segment:.1f}" height="{bar_height}" '
                         f'fill="{POSITION_COLOURS[position]}"><title>{escape(group)}: {value} '
                         f'{escape(POSITION_LABELS[position].lower())}</title></rect>')
            if segment >= 18:
                ink = "#ffffff" if position in (Position.champion, Position.supportive, Position.opposed) else "#1d2433"
                parts.append(f'<text x="{offset + segment / 2:.1f}" y="{y + 15}" font-size="11" text-anchor="middle" '
                             f'fill="{ink}">{value}</text>')
            offset += segment
        parts.append(f'<text x="{label_width + bar_width + 6}" y="{y + 15}" font-size="11" fill="#5b6577">'
                     f'{sum(counts.values())}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(points: Sequence[tuple[str, float]], *, title: str, unit: str = "", width: int = 720,
                 height: int = 220, note: str = "") -> Markup:
    """Vertical bars for a series (returns per year), each value written above its bar."""
    top, bottom, left = 18, 34, 8
    plot_height = height - top - bottom
    largest = max((value for _, value in points), default=0) or 1
    slot = (width - left) / max(1, len(points))
    bar = min(48.0, slot * 0.7)
    longest = max((len(label) for label, _ in points), default=1)
    label_size = 11 if longest * 6.2 < slot - 4 else 9
    described = ", ".join(f"{label}: {_number(value)}{(' ' + unit) if unit else ''}" for label, value in points)
    _, svg = _svg_open(width, height, title, (note + " " if note else "") + described, "chart chart-columns")
    parts = [svg, f'<line x1="{left}" y1="{top + plot_height}" x2="{width}" y2="{top + plot_height}" stroke="#8a93a3"/>']
    for index, (label, value) in enumerate(points):
        x = left + index * slot + (slot - bar) / 2
        bar_height = plot_height * value / largest
        y = top + plot_height - bar_height
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{bar_height:.1f}" fill="#8a1c2b">'
                     f'<title>{escape(label)}: {escape(_number(value))}</title></rect>'
                     f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" font-size="11" text-anchor="middle" '
                     f'fill="#1d2433">{escape(_number(value))}</text>'
                     f'<text x="{x + bar / 2:.1f}" y="{top + plot_height + 16}" font-size="{label_size}" '
                     f'text-anchor="middle" fill="#5b6577">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def table_series(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> tuple[str, list[tuple[str, float]]]:
    """The first numeric column of a table against its first column, skipping total and empty rows."""
    for index in range(1, len(columns)):
        points = [(str(row[0]), float(row[index])) for row in rows
                  if isinstance(row[index], (int, float)) and not isinstance(row[index], bool)
                  and not str(row[0]).lower().startswith("total")]
        if len(points) >= 2:
            return columns[index], points
    return "", []

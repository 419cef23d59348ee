"""The supplier score trend as inline SVG: drawn on the server, so the admin needs no script or CDN."""

from datetime import date, timedelta

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from suppliers.scoring import STANDING_FLOORS

WIDTH, HEIGHT = 600, 180
LEFT, RIGHT, TOP, BOTTOM = 36, 8, 10, 24


def _x(index: int, days: int) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * (index / max(days - 1, 1))


def _y(score: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - score / 100)


def score_trend_svg(points: list[tuple[date, float | None]], *, days: int, today: date) -> SafeString:
    """A line of the daily score over the last ``days`` days; days without a score break the line."""
    first_day = today - timedelta(days=days - 1)
    segments: list[list[str]] = [[]]
    for day, score in sorted(points):
        if score is None:
            segments.append([])
            continue
        segments[-1].append(f"{_x((day - first_day).days, days):.1f},{_y(float(score)):.1f}")
    lines = format_html_join(
        "",
        '<polyline points="{}" fill="none" stroke="#2b6cb0" stroke-width="2"/>',
        ((" ".join(segment),) for segment in segments if len(segment) > 1),
    )
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="2.5" fill="#2b6cb0"/>',
        (point.split(",") for segment in segments for point in segment),
    )
    floors = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#ccc" stroke-dasharray="3,3"/>'
        '<text x="{}" y="{}" font-size="10" fill="#666" text-anchor="end">{}</text>',
        (
            (LEFT, WIDTH - RIGHT, f"{_y(floor):.1f}", f"{_y(floor):.1f}", LEFT - 4, f"{_y(floor) + 3:.1f}", floor)
            for _standing, floor in STANDING_FLOORS
        ),
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img"'
        ' aria-label="Score over the last {days} days">'
        '<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#ddd"/>'
        "{floors}{lines}{dots}"
        '<text x="{left}" y="{h_label}" font-size="10" fill="#666">{first}</text>'
        '<text x="{right}" y="{h_label}" font-size="10" fill="#666" text-anchor="end">{last}</text>'
        "</svg>",
        w=WIDTH,
        h=HEIGHT,
        days=days,
        left=LEFT,
        top=TOP,
        pw=WIDTH - LEFT - RIGHT,
        ph=HEIGHT - TOP - BOTTOM,
        floors=floors,
        lines=lines,
        dots=dots,
        h_label=HEIGHT - 6,
        right=WIDTH - RIGHT,
        first=first_day.isoformat(),
        last=today.isoformat(),
    )

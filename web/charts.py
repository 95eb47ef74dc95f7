"""Server-rendered SVG charts: no script, no CDN, readable when printed. Every label is escaped."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from markupsafe import Markup, escape

from coach.workspace.keywords import Edge, Node

INK, MUTED, LINE, ACCENT, SOFT = "#26231f", "#6b655c", "#ddd7cc", "#9a5b13", "#f6ead8"


def bars(items: list[tuple[str, int]], title: str, width: int = 520, row: int = 30,
         highlight: str | None = None) -> Markup:
    """Horizontal bars with the label on the left and the number at the end of the bar."""
    pad = 8
    label_w = min(width // 2, 16 + 14 * max([len(label) for label, _ in items] + [4]))
    height = row * len(items) + pad * 2
    top = max([n for _, n in items] + [1])
    out = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
           f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for i, (label, n) in enumerate(items):
        y = pad + i * row
        w = (width - label_w - 60) * n / top
        fill = ACCENT if highlight is None or label == highlight else "#c9a77c"
        out.append(f'<text x="{label_w - 8}" y="{y + row / 2 + 5}" text-anchor="end" font-size="14" '
                   f'fill="{INK}">{escape(label)}</text>')
        out.append(f'<rect x="{label_w}" y="{y + 5}" width="{max(w, 1.5):.1f}" height="{row - 10}" rx="3" '
                   f'fill="{fill if n else LINE}"/>')
        out.append(f'<text x="{label_w + w + 6:.1f}" y="{y + row / 2 + 5}" font-size="14" fill="{MUTED}">{n}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def ring(part: int, whole: int, caption: str, size: int = 150) -> Markup:
    """A progress ring with 'part/whole' in the middle."""
    r, c = size / 2 - 12, size / 2
    share = part / whole if whole else 0.0
    length = 2 * 3.14159265 * r
    return Markup(
        f'<svg class="ring" role="img" viewBox="0 0 {size} {size}" width="{size}" height="{size}" '
        f'aria-label="{escape(caption)} {part}/{whole}"><title>{escape(caption)}</title>'
        f'<circle cx="{c}" cy="{c}" r="{r}" fill="none" stroke="{SOFT}" stroke-width="14"/>'
        f'<circle cx="{c}" cy="{c}" r="{r}" fill="none" stroke="{ACCENT}" stroke-width="14" '
        f'stroke-dasharray="{length * share:.1f} {length:.1f}" transform="rotate(-90 {c} {c})" stroke-linecap="round"/>'
        f'<text x="{c}" y="{c + 4}" text-anchor="middle" font-size="26" font-weight="700" fill="{INK}">'
        f'{part}<tspan font-size="16" fill="{MUTED}">/{whole}</tspan></text>'
        f'<text x="{c}" y="{c + 26}" text-anchor="middle" font-size="12" fill="{MUTED}">{round(share * 100)}%</text>'
        "</svg>"
    )


def network(nodes: list[Node], edges: list[Edge], title: str, width: int = 760, height: int = 440,
            link: Callable[[str], str] | None = None) -> Markup:
    """The keyword map: circle size = how many sheets use the word, line = used together.
    With `link`, each word is a link (to the sheets that use it)."""
    if not nodes:
        return Markup('<p class="muted">シートが増えると、ここに言葉の地図が表示されます。</p>')
    margin = 60
    top = max(n.count for n in nodes)

    def xy(n: Node) -> tuple[float, float]:
        return margin + n.x * (width - 2 * margin), 30 + n.y * (height - 60)

    radius = {n.word: max(8 + 18 * (n.count / top) ** 0.5, len(n.word) * _font(n, top) * 0.55 + 5) for n in nodes}
    where = _spread({n.word: xy(n) for n in nodes}, radius, width, height)
    out = [f'<svg class="chart network" role="img" viewBox="0 0 {width} {height}" width="100%" '
           f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for e in edges:
        (x1, y1), (x2, y2) = where[e.a], where[e.b]
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{LINE}" '
                   f'stroke-width="{1 + 5 * e.weight:.1f}"/>')
    for n in sorted(nodes, key=lambda n: n.count):
        x, y = where[n.word]
        r = radius[n.word]
        node = (f'<g><title>{escape(n.word)}：{n.count}枚のシート</title>'
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{SOFT}" stroke="{ACCENT}"/>'
                f'<text x="{x:.1f}" y="{y + 5:.1f}" text-anchor="middle" font-size="{_font(n, top):.0f}" '
                f'fill="{INK}">{escape(n.word)}</text></g>')
        out.append(f'<a href="{escape(link(n.word))}">{node}</a>' if link else node)
    out.append("</svg>")
    return Markup("".join(out))


def _font(n: Node, top: int) -> float:
    return 12 + 4 * n.count / top


def _spread(where: dict[str, tuple[float, float]], radius: dict[str, float], width: int,
            height: int) -> dict[str, tuple[float, float]]:
    """Push overlapping circles apart (a few relaxation passes), keeping them inside the frame. The same
    map gives the same picture: remembered for the last few maps (the overview redraws it on each load)."""
    return dict(_spread_of(tuple(where.items()), tuple(radius.items()), width, height))


@lru_cache(maxsize=16)
def _spread_of(where_items: tuple[tuple[str, tuple[float, float]], ...], radius_items: tuple[tuple[str, float], ...],
               width: int, height: int) -> tuple[tuple[str, tuple[float, float]], ...]:
    where, radius = dict(where_items), dict(radius_items)
    pos = {w: list(p) for w, p in where.items()}
    words = list(pos)
    for _ in range(80):
        moved = False
        for i, a in enumerate(words):
            for b in words[i + 1:]:
                dx, dy = pos[b][0] - pos[a][0], pos[b][1] - pos[a][1]
                dist = (dx * dx + dy * dy) ** 0.5 or 0.01
                need = radius[a] + radius[b] + 4
                if dist < need:
                    push = (need - dist) / 2
                    ux, uy = (dx / dist, dy / dist) if dist > 0.01 else (1.0, 0.0)
                    pos[a][0] -= ux * push
                    pos[a][1] -= uy * push
                    pos[b][0] += ux * push
                    pos[b][1] += uy * push
                    moved = True
        for w in words:
            pos[w][0] = min(max(pos[w][0], radius[w] + 2), width - radius[w] - 2)
            pos[w][1] = min(max(pos[w][1], radius[w] + 2), height - radius[w] - 2)
        if not moved:
            break
    return tuple((w, (p[0], p[1])) for w, p in pos.items())

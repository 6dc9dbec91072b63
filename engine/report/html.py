"""The replay report as one self-contained HTML file (``dry-run --report day.html``).

Everything is inline: the charts are SVG drawn here, the style and the one small script
(a tooltip for the markers and spans) are in the page; it loads nothing, so it opens the
same from a mail attachment as from a CI artifact. Each decision is one ``.marker``
element carrying its rule, action, time and reason, which is what the browser test counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import timedelta
from html import escape
from zoneinfo import ZoneInfo

from ..clock import MICROS, to_datetime, to_iso
from ..network.decisions import Decision
from .collect import AccountReport, Report, Sample

__all__ = ["render_html"]

WIDTH = 1000
LEFT, RIGHT = 72, 16
PLOT = WIDTH - LEFT - RIGHT
PNL_HEIGHT, PNL_TOP, PNL_BOTTOM = 340, 16, 34
POS_HEIGHT, POS_TOP, POS_BOTTOM = 150, 10, 30
#: colors of the rules' markers, in the order the rules first decide
PALETTE = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#7f7f7f")
SERIES = (("realized", "#1f77b4", ""), ("unrealized", "#ff7f0e", "4 3"), ("net", "#111", ""))
#: typographic minus and en dash (the page's numbers and periods)
MINUS, DASH = "\u2212", "\u2013"
TIME_STEPS = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800)

STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222}
h1{font-size:20px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 6px}
.meta{color:#555;margin:0 0 12px} nav a{margin-right:12px}
svg.chart{width:100%;height:auto;display:block;background:#fff;border:1px solid #ddd}
svg text{font-size:11px;fill:#444} .axis line{stroke:#ccc} .zero{stroke:#999}
.span.lockout rect{fill:#d62728;fill-opacity:.12} .span.cooldown rect{fill:#ff9f1c;fill-opacity:.18}
.limit line{stroke:#c00;stroke-dasharray:6 4;stroke-width:1.2} .limit text{fill:#c00}
.limit.per-position line{stroke:#b8860b} .limit.per-position text{fill:#b8860b}
.marker{cursor:pointer} .marker path{stroke:#fff;stroke-width:1}
.marker.superseded path{fill-opacity:.25;stroke:#555}
.marker:hover path,.marker.picked path{stroke:#000;stroke-width:2}
.legend span{display:inline-block;margin-right:14px} .legend i{display:inline-block;
width:18px;height:3px;vertical-align:middle;margin-right:4px}
table{border-collapse:collapse;margin:8px 0} td,th{border:1px solid #ddd;padding:3px 8px;
text-align:left;vertical-align:top} th{background:#f4f4f4} td.num{text-align:right}
tr.decision-row{cursor:pointer} tr.decision-row:hover{background:#f6f9ff}
#tip{position:absolute;max-width:420px;background:#222;color:#fff;padding:6px 8px;
border-radius:4px;font-size:12px;pointer-events:none;white-space:pre-wrap;z-index:9}
"""

SCRIPT = """
(function () {
  'use strict';
  var tip = document.getElementById('tip');
  function target(event) {
    var node = event.target;
    return node && node.closest ? node.closest('[data-tip]') : null;
  }
  function show(event) {
    var item = target(event);
    if (!item) { tip.hidden = true; return; }
    tip.textContent = item.getAttribute('data-tip');
    tip.hidden = false;
    var x = event.pageX, y = event.pageY;
    if (x === undefined || (x === 0 && y === 0)) {
      var box = item.getBoundingClientRect();
      x = box.right + window.scrollX; y = box.bottom + window.scrollY;
    }
    tip.style.left = (x + 12) + 'px';
    tip.style.top = (y + 12) + 'px';
  }
  document.addEventListener('mouseover', show);
  document.addEventListener('mousemove', show);
  document.addEventListener('focusin', show);
  document.addEventListener('click', function (event) {
    var row = event.target.closest ? event.target.closest('tr[data-marker]') : null;
    if (!row) { return; }
    document.querySelectorAll('.marker.picked').forEach(function (m) {
      m.classList.remove('picked');
    });
    var marker = document.getElementById(row.getAttribute('data-marker'));
    if (marker) {
      marker.classList.add('picked');
      marker.scrollIntoView({block: 'center'});
    }
  });
  document.body.setAttribute('data-markers',
    String(document.querySelectorAll('.marker').length));
}());
"""


def render_html(report: Report) -> str:
    zone = report.zone
    total = sum(len(a.decisions) for a in report.accounts)
    period = f"{_stamp(report.start, zone, True)} {DASH} {_stamp(report.end, zone, True)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>riskrail replay: {escape(report.source)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>riskrail replay of {escape(report.source)}</h1>",
        f'<p class="meta">ruleset <b>{escape(report.ruleset)}</b> (revision '
        f"{escape(report.revision)}) · {escape(period)} ({escape(str(zone))}) · "
        f"{len(report.accounts)} account(s) · {total} decision(s)"
        + (f" · {report.skipped} bad input line(s) skipped" if report.skipped else "")
        + " · decisions are what riskrail would have decided; nothing was sent</p>",
    ]
    if len(report.accounts) > 1:
        parts.append("<nav>" + "".join(
            f'<a href="#account-{a.id}">{escape(a.name)}</a>' for a in report.accounts)
            + "</nav>")
    if not report.accounts:
        parts.append("<p>No account event in the input: nothing to show.</p>")
    colors = _rule_colors(report.accounts)
    for account in report.accounts:
        parts.append(_account(account, report, colors))
    parts.append('<div id="tip" hidden></div>')
    parts.append(f"<script>{SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


def _rule_colors(accounts: Sequence[AccountReport]) -> dict[str, str]:
    colors: dict[str, str] = {}
    for account in accounts:
        for decision in account.decisions:
            if decision.rule not in colors:
                colors[decision.rule] = PALETTE[len(colors) % len(PALETTE)]
    return colors


class _TimeAxis:
    def __init__(self, start: int, end: int, zone: ZoneInfo) -> None:
        self.start = start
        self.end = max(end, start + 60 * MICROS)
        self.zone = zone

    def x(self, ts: int) -> float:
        return LEFT + (ts - self.start) / (self.end - self.start) * PLOT

    def ticks(self) -> list[tuple[float, str]]:
        seconds = (self.end - self.start) / MICROS
        step = next((s for s in TIME_STEPS if seconds / s <= 10), TIME_STEPS[-1])
        first = to_datetime(self.start, self.zone)
        midnight = first.replace(hour=0, minute=0, second=0, microsecond=0)
        offset = (first - midnight).total_seconds()
        moment = midnight + timedelta(seconds=math.ceil(offset / step) * step)
        days = seconds > 20 * 3600
        out = []
        while True:
            ts = round(moment.timestamp() * MICROS)
            if ts > self.end:
                break
            label = moment.strftime("%b %d %H:%M" if days else "%H:%M")
            out.append((self.x(ts), label))
            moment = (moment + timedelta(seconds=step)).astimezone(self.zone)
        return out


class _ValueAxis:
    def __init__(self, values: Iterable[float], top: int, height: int, bottom: int) -> None:
        numbers = [v for v in values if math.isfinite(v)] or [0.0]
        low, high = min(numbers), max(numbers)
        if high - low < 1e-9:
            low, high = low - 1, high + 1
        pad = (high - low) * 0.08
        self.low, self.high = low - pad, high + pad
        self.top, self.bottom = top, height - bottom

    def y(self, value: float) -> float:
        return self.bottom - (value - self.low) / (self.high - self.low) * (self.bottom - self.top)

    def ticks(self) -> list[float]:
        span = self.high - self.low
        raw = span / 6
        power = 10 ** math.floor(math.log10(raw))
        step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
        value = math.ceil(self.low / step) * step
        out = []
        while value <= self.high:
            out.append(value)
            value += step
        return out


def _stamp(ts: int, zone: ZoneInfo, date: bool = False) -> str:
    moment = to_datetime(ts, zone)
    text = moment.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text


def _money(value: float | None) -> str:
    if value is None:
        return "\u2014"  # an em dash: not known
    return f"{value:,.2f}".replace("-", MINUS)


def _duration(micros: int) -> str:
    seconds = round(micros / MICROS)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {seconds:02d}s" if hours else f"{minutes}m {seconds:02d}s"


def _compress(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Keep, of the points that fall on one half-pixel, the first, lowest, highest and
    last: a day of quotes draws the same with a few thousand points."""
    if len(points) < 2000:
        return points
    out: list[tuple[float, float]] = []
    bucket: list[tuple[float, float]] = []
    for point in points:
        if bucket and round(point[0] * 2) != round(bucket[0][0] * 2):
            out += _keep(bucket)
            bucket = []
        bucket.append(point)
    return out + _keep(bucket)


def _keep(bucket: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(bucket) <= 4:
        return bucket
    low = min(bucket, key=lambda p: p[1])
    high = max(bucket, key=lambda p: p[1])
    middle = sorted({low, high}, key=bucket.index)
    return [bucket[0], *middle, bucket[-1]]


def _step_path(points: list[tuple[int, float | None]], time: _TimeAxis, axis: _ValueAxis,
               end: int) -> str:
    """A step line (a value holds until the next sample); None breaks it."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for index, (ts, value) in enumerate(points):
        if value is None:
            if current:
                runs.append(current)
            current = []
            continue
        x, y = time.x(ts), axis.y(value)
        if current:
            current.append((x, current[-1][1]))
        current.append((x, y))
        if index == len(points) - 1:
            current.append((time.x(end), y))
    if current:
        runs.append(current)
    commands = []
    for run in runs:
        run = _compress(run)
        commands.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in run))
    return " ".join(commands)


def _value_at(samples: Sequence[Sample], ts: int) -> float:
    """The net P&L after the step at ``ts`` (the last sample at or before it)."""
    value = samples[0].net if samples else 0.0
    for sample in samples:
        if sample.ts > ts:
            break
        value = sample.net
    return value


def _time_axis_svg(time: _TimeAxis, top: float, bottom: float) -> list[str]:
    out = ['<g class="axis time">']
    for x, label in time.ticks():
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}"/>'
                   f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="middle">'
                   f"{escape(label)}</text>")
    out.append("</g>")
    return out


def _value_axis_svg(axis: _ValueAxis, money: bool) -> list[str]:
    out = ['<g class="axis value">']
    for value in axis.ticks():
        y = axis.y(value)
        label = f"{value:,.0f}".replace("-", MINUS) if money else f"{value:g}".replace("-", MINUS)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                   f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    out.append("</g>")
    if axis.low < 0 < axis.high:
        y = axis.y(0)
        out.append(f'<line class="zero" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" '
                   f'y2="{y:.1f}"/>')
    return out


def _spans_svg(account: AccountReport, time: _TimeAxis, top: float, bottom: float,
               zone: ZoneInfo, end: int) -> list[str]:
    out = []
    for span in account.spans:
        stop = span.end if span.end is not None else end
        x1, x2 = time.x(span.start), time.x(min(stop, time.end))
        until = _stamp(span.end, zone) if span.end is not None else "(still active)"
        what = f" on {span.symbol}" if span.scope == "symbol" and span.symbol else ""
        tip = (f"{span.kind}{what} by {span.rule}: {_stamp(span.start, zone)} {DASH} {until}\n"
               f"{span.reason}")
        out.append(f'<g class="span {escape(span.kind)}" data-rule="{escape(span.rule)}" '
                   f'data-tip="{escape(tip)}"><rect x="{x1:.1f}" y="{top}" '
                   f'width="{max(x2 - x1, 1.5):.1f}" height="{bottom - top}"/>'
                   f"<title>{escape(tip)}</title></g>")
    return out


def _marker_tip(decision: Decision, zone: ZoneInfo) -> str:
    target = decision.contract or decision.symbol
    words = [_stamp(decision.ts, zone), decision.rule, decision.action]
    if target:
        words.append(target)
    if decision.size is not None:
        words.append(f"size {decision.size:g}")
    if decision.until is not None:
        words.append(f"until {_stamp(decision.until, zone, True)}")
    text = " ".join(words) + "\n" + decision.reason
    if decision.superseded_by:
        text += f"\n(superseded by {decision.superseded_by})"
    return text


def _pnl_chart(account: AccountReport, time: _TimeAxis, zone: ZoneInfo,
               colors: dict[str, str]) -> str:
    samples = account.samples
    values: list[float] = [0.0]
    for sample in samples:
        values += [sample.realized, sample.net]
        if sample.unrealized is not None:
            values.append(sample.unrealized)
    values += [limit.value for limit in account.limits]
    axis = _ValueAxis(values, PNL_TOP, PNL_HEIGHT, PNL_BOTTOM)
    bottom = PNL_HEIGHT - PNL_BOTTOM
    out = [f'<svg class="chart pnl" viewBox="0 0 {WIDTH} {PNL_HEIGHT}" role="img" '
           f'aria-label="P&amp;L of account {escape(account.name)}">']
    out += _spans_svg(account, time, PNL_TOP, bottom, zone, time.end)
    out += _value_axis_svg(axis, True)
    out += _time_axis_svg(time, PNL_TOP, bottom)
    for limit in account.limits:
        y = axis.y(limit.value)
        kind = "limit per-position" if limit.per_position else "limit"
        out.append(f'<g class="{kind}" data-rule="{escape(limit.rule)}" '
                   f'data-param="{escape(limit.param)}" data-value="{limit.value:g}">'
                   f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                   f'<text x="{WIDTH - RIGHT - 4}" y="{y - 4:.1f}" text-anchor="end">'
                   f"{escape(limit.label)}</text><title>{escape(limit.label)}</title></g>")
    for name, color, dash in SERIES:
        if name == "realized":
            points: list[tuple[int, float | None]] = [(s.ts, s.realized) for s in samples]
        elif name == "unrealized":
            points = [(s.ts, s.unrealized) for s in samples]
        else:
            points = [(s.ts, s.net) for s in samples]
        path = _step_path(points, time, axis, time.end)
        if path:
            width = 2.2 if name == "net" else 1.5
            out.append(f'<path class="series {name}" d="{path}" fill="none" stroke="{color}" '
                       f'stroke-width="{width}"'
                       + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
    stacked: dict[tuple[int, int], int] = {}
    for index, decision in enumerate(account.decisions):
        x = time.x(decision.ts)
        y = axis.y(_value_at(samples, decision.ts))
        level = stacked.get((round(x), round(y)), 0)
        stacked[(round(x), round(y))] = level + 1
        y -= level * 11
        color = colors.get(decision.rule, PALETTE[0])
        tip = _marker_tip(decision, zone)
        classes = "marker superseded" if decision.superseded_by else "marker"
        out.append(
            f'<g class="{classes}" id="m-{account.id}-{index}" tabindex="0" '
            f'data-account="{account.id}" data-rule="{escape(decision.rule)}" '
            f'data-action="{escape(decision.action)}" '
            f'data-ts="{escape(to_iso(decision.ts, zone))}" '
            f'data-reason="{escape(decision.reason)}" data-tip="{escape(tip)}">'
            f'<path d="M{x:.1f},{y - 6:.1f} L{x + 6:.1f},{y:.1f} L{x:.1f},{y + 6:.1f} '
            f'L{x - 6:.1f},{y:.1f} Z" fill="{color}"/><title>{escape(tip)}</title></g>')
    out.append("</svg>")
    legend = "".join(f'<span><i style="background:{color}"></i>{name}</span>'
                     for name, color, _ in SERIES)
    legend += "".join(f'<span><i style="background:{colors[rule]};height:10px;width:10px">'
                      f"</i>{escape(rule)}</span>"
                      for rule in dict.fromkeys(d.rule for d in account.decisions))
    legend += ('<span><i style="background:#d62728;opacity:.25;height:10px"></i>lockout</span>'
               '<span><i style="background:#ff9f1c;opacity:.35;height:10px"></i>cooldown</span>')
    return "\n".join(out) + f'\n<div class="legend">{legend}</div>'


def _positions_chart(account: AccountReport, time: _TimeAxis, zone: ZoneInfo) -> str:
    names = sorted({name for s in account.samples for name, _ in s.positions})
    values: list[float] = [0.0, 1.0]
    for sample in account.samples:
        values += [size for _, size in sample.positions]
    axis = _ValueAxis(values, POS_TOP, POS_HEIGHT, POS_BOTTOM)
    bottom = POS_HEIGHT - POS_BOTTOM
    out = [f'<svg class="chart positions" viewBox="0 0 {WIDTH} {POS_HEIGHT}" role="img" '
           f'aria-label="positions of account {escape(account.name)}">']
    out += _spans_svg(account, time, POS_TOP, bottom, zone, time.end)
    out += _value_axis_svg(axis, False)
    out += _time_axis_svg(time, POS_TOP, bottom)
    legend = []
    for index, name in enumerate(names):
        color = PALETTE[(index + 1) % len(PALETTE)]
        points: list[tuple[int, float | None]] = [
            (s.ts, float(dict(s.positions).get(name, 0))) for s in account.samples]
        path = _step_path(points, time, axis, time.end)
        out.append(f'<path class="series position" data-contract="{escape(name)}" '
                   f'd="{path}" fill="none" stroke="{color}" stroke-width="1.8"/>')
        legend.append(f'<span><i style="background:{color}"></i>{escape(name)}</span>')
    out.append("</svg>")
    note = "contracts held (short below zero)" + ("" if names else ": no position all day")
    return "\n".join(out) + f'\n<div class="legend">{"".join(legend)} {escape(note)}</div>'


def _summary(account: AccountReport, report: Report) -> str:
    rows = []
    for rule, actions in account.decisions_by_rule().items():
        superseded = sum(1 for d in account.decisions if d.rule == rule and d.superseded_by)
        detail = ", ".join(f"{action} {count}" for action, count in sorted(actions.items()))
        rows.append(f"<tr><td>{escape(rule)}</td><td class=num>{sum(actions.values())}</td>"
                    f"<td>{escape(detail)}</td><td class=num>{superseded}</td></tr>")
    if not rows:
        rows.append('<tr><td colspan="4">no decision</td></tr>')
    last = account.samples[-1] if account.samples else None
    locked = account.time_locked(report.end)
    stats = [
        ("time locked (lockouts and cooldowns)", _duration(locked)),
        ("worst drawdown (net P&L from its peak)", _money(account.worst_drawdown())),
        ("lowest net P&L", _money(account.lowest_net())),
        ("realized P&L at the end", _money(last.realized if last else None)),
        ("net P&L at the end", _money(last.net if last else None)),
        ("limits drawn", ", ".join(limit.label for limit in account.limits) or "none"),
    ]
    return ("<table class=\"summary rules\"><tr><th>rule</th><th>decisions</th>"
            "<th>actions</th><th>superseded</th></tr>" + "".join(rows) + "</table>"
            "<table class=\"summary stats\">" + "".join(
                f"<tr><th>{escape(name)}</th><td class=num>{escape(value)}</td></tr>"
                for name, value in stats) + "</table>")


def _decision_table(account: AccountReport, zone: ZoneInfo) -> str:
    if not account.decisions:
        return ""
    rows = []
    for index, decision in enumerate(account.decisions):
        target = decision.contract or decision.symbol or ""
        note = f" (superseded by {decision.superseded_by})" if decision.superseded_by else ""
        rows.append(f'<tr class="decision-row" data-marker="m-{account.id}-{index}">'
                    f"<td>{escape(_stamp(decision.ts, zone))}</td>"
                    f"<td>{escape(decision.rule)}</td><td>{escape(decision.action)}</td>"
                    f"<td>{escape(target)}</td><td>{escape(decision.reason + note)}</td></tr>")
    return ("<details><summary>every decision (click one to find its marker)</summary>"
            "<table class=\"decisions\"><tr><th>time</th><th>rule</th><th>action</th>"
            "<th>target</th><th>reason</th></tr>" + "".join(rows) + "</table></details>")


def _account(account: AccountReport, report: Report, colors: dict[str, str]) -> str:
    time = _TimeAxis(report.start, report.end, report.zone)
    return "\n".join([
        f'<section class="account" id="account-{account.id}" data-account="{account.id}" '
        f'data-decisions="{len(account.decisions)}">',
        f"<h2>Account {escape(account.name)} (id {account.id})</h2>",
        _pnl_chart(account, time, report.zone, colors),
        _positions_chart(account, time, report.zone),
        _summary(account, report),
        _decision_table(account, report.zone),
        "</section>",
    ])

"""The replay report (``riskrail dry-run --report day.html``): per account, the P&L of
the day with the rules' limits, the positions, each decision as a marker with its
reason, the lockouts and cooldowns, and a summary, in one self-contained HTML file."""

from __future__ import annotations

from .collect import AccountReport, Report, ReportRecorder, Sample, Span
from .html import render_html
from .limits import Limit, money_limits

__all__ = ["AccountReport", "Limit", "Report", "ReportRecorder", "Sample", "Span",
           "money_limits", "render_html"]

"""The digest as an e-mail: plain text, HTML without external assets, and the MIME message (pure).

The HTML uses tables and inline styles only (what Gmail, Outlook and Apple Mail all render);
charts are PNG parts of a ``multipart/related`` referenced by ``cid:``. Every value that came
from data (agency names, metric values) is escaped.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Final

from resolve311.digest.chart import render_png
from resolve311.digest.model import Chart, Digest, Movement, describe

E = html.escape
FONT: Final = "font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;"
MUTED: Final = "color:#5f6b7a;"
ImageSource = Callable[[int, Chart], str]


def subject(d: Digest) -> str:
    return f"resolve311 digest: {d.title}"


def plain_text(d: Digest) -> str:
    """The text/plain part (also what `digest preview` prints)."""
    lines = [f"resolve311 morning digest for {d.as_of_date}", f"{d.window} window vs {d.baseline_text}", ""]
    lines += [d.headline, ""]
    for head, group in d.by_agency():
        lines.append(f"* {head.agency_name} ({head.agency}) {head.link}")
        lines += [f"  - {describe(m, d.short_baseline)}" for m in group]
        lines.append("")
    if d.more:
        lines.append(f"... and {d.more} more flag(s): {d.overview_link}")
    if d.summary:
        lines += ["", "Daily summary (recent value, change against the baseline):"]
        for row in d.summary:
            cells = "; ".join(f"{label} {value} {rel}".rstrip() for label, value, rel in row.cells)
            lines.append(f"- {row.agency_name} ({row.agency}): {cells}")
    lines += ["", f"Dashboard: {d.overview_link}", f"Delivery status: {d.health_link}"]
    return "\n".join(lines).strip() + "\n"


def html_body(d: Digest, image_src: ImageSource) -> str:
    """The text/html part; ``image_src(i, chart)`` gives each chart's ``src`` (``cid:…`` or ``data:``)."""
    charts = {c.agency: (i, c) for i, c in enumerate(d.charts)}
    size = "15px" if d.quiet else "13px"
    blocks = [f'<p style="{FONT}font-size:{size};margin:0 0 14px;">{E(d.headline)}</p>']
    blocks += [_agency(head, group, d, charts, image_src) for head, group in d.by_agency()]
    if d.more:
        blocks.append(
            f'<p style="{FONT}">… and {d.more} more flag(s) on <a href="{E(d.overview_link)}">the overview</a>.</p>'
        )
    if d.summary:
        blocks.append(_summary(d))
    return _page(d, "\n".join(blocks))


def _page(d: Digest, content: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{E(subject(d))}</title></head>
<body style="margin:0;padding:0;background:#f3f5f8;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f5f8;"><tr><td align="center">
<table role="presentation" width="640" cellpadding="0" cellspacing="0" style="max-width:640px;background:#ffffff;border:1px solid #dde2e8;">
<tr><td style="padding:20px 24px;background:#1f4e8c;color:#ffffff;{FONT}">
<div style="font-size:13px;opacity:.85;">resolve311 morning digest · {E(d.as_of_date)}</div>
<div style="font-size:20px;font-weight:bold;margin-top:4px;">{E(d.title)}</div>
<div style="font-size:13px;opacity:.85;margin-top:4px;">{E(d.window)} window vs {E(d.baseline_text)}</div>
</td></tr>
<tr><td style="padding:16px 24px;{FONT}font-size:14px;color:#1d2733;">
{content}
</td></tr>
<tr><td style="padding:12px 24px 20px;{FONT}font-size:12px;{MUTED}border-top:1px solid #dde2e8;">
<a href="{E(d.overview_link)}">Open the dashboard</a> · <a href="{E(d.health_link)}">delivery status</a><br>
You get this because the subscription “{E(d.subscriber)}” is in this resolve311's configuration.
</td></tr></table></td></tr></table></body></html>
"""


def _agency(
    head: Movement,
    group: list[Movement],
    d: Digest,
    charts: dict[str, tuple[int, Chart]],
    image_src: ImageSource,
) -> str:
    items = "".join(
        f'<li style="margin:4px 0;"><span style="color:{_COLOR.get(m.verdict, "#1d2733")};font-weight:bold;">'
        f"{E(m.verdict.upper())}</span> {E(describe(m, d.short_baseline))}</li>"
        for m in group
    )
    chart = ""
    if head.agency in charts:
        i, c = charts[head.agency]
        chart = (
            f'<img src="{E(image_src(i, c))}" width="560" height="120" alt="{E(c.title)}" '
            f'style="display:block;border:0;max-width:100%;margin-top:8px;">'
            f'<div style="font-size:12px;{MUTED}">{E(c.title)}; dark bars: the recent window.</div>'
        )
    return (
        f'<div style="margin:0 0 18px;">'
        f'<div style="font-size:16px;font-weight:bold;"><a href="{E(head.link)}" style="color:#1f4e8c;">'
        f'{E(head.agency_name)}</a> <span style="{MUTED}font-weight:normal;">({E(head.agency)})</span></div>'
        f'<ul style="margin:6px 0 0;padding-left:20px;">{items}</ul>{chart}</div>'
    )


_COLOR: Final = {"worse": "#b3261e", "better": "#1b7f3b"}


def _summary(d: Digest) -> str:
    rows = []
    for r in d.summary:
        cells = "".join(
            f'<td style="padding:4px 8px;border-top:1px solid #eef1f4;">{E(label)}<br><b>{E(value)}</b> '
            f'<span style="{MUTED}">{E(rel)}</span></td>'
            for label, value, rel in r.cells
        )
        rows.append(
            f'<tr><td style="padding:4px 8px;border-top:1px solid #eef1f4;"><a href="{E(r.link)}">{E(r.agency)}</a></td>{cells}</tr>'
        )
    return (
        f'<div style="font-size:15px;font-weight:bold;margin:12px 0 6px;">Daily summary</div>'
        f'<table role="presentation" cellpadding="0" cellspacing="0" style="{FONT}font-size:12px;border-collapse:collapse;">'
        + "".join(rows)
        + "</table>"
    )


def chart_cid(d: Digest, i: int, domain: str) -> str:
    return f"chart{i}.{d.subscriber}.{d.as_of_date}@{domain}"


def data_uri(i: int, chart: Chart) -> str:
    """A chart as a ``data:`` URI (previews in a browser; e-mails use ``cid:``)."""
    return "data:image/png;base64," + base64.b64encode(render_png(chart)).decode()


def email_message(
    d: Digest, *, to: str, sender: str, message_id: str, now: datetime | None = None
) -> EmailMessage:
    """multipart/alternative (text/plain, multipart/related (text/html, image/png …))."""
    domain = sender.rpartition("@")[2] or "resolve311"
    msg = EmailMessage()
    msg["Subject"] = subject(d)
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(plain_text(d))
    msg.add_alternative(html_body(d, lambda i, c: "cid:" + chart_cid(d, i, domain)), subtype="html")
    html_part = next(p for p in msg.iter_parts() if p.get_content_type() == "text/html")
    for i, chart in enumerate(d.charts):
        html_part.add_related(render_png(chart), "image", "png", cid=f"<{chart_cid(d, i, domain)}>")
    return msg


def message_id_for(digest_key: str, sender: str) -> str:
    """``<digest-KEY@domain>``: the same on every rerun for one subscriber, date and address."""
    domain = sender.rpartition("@")[2] or "resolve311"
    return f"<digest-{digest_key}@{domain}>"


__all__ = ["data_uri", "email_message", "html_body", "message_id_for", "plain_text", "subject"]

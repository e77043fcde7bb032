"""The digest as a webhook body (pure): ``text`` + Slack Block Kit ``blocks`` + ``metadata``.

- ``text``: the whole digest in Slack ``mrkdwn`` (Microsoft Teams incoming webhooks show it too);
- ``blocks``: header, context, the summary line, one section per agency, dashboard link — within Slack's limits
  (at most 50 blocks, section text at most 3,000 characters, header at most 150);
- ``metadata``: Slack's message metadata (``event_type`` + ``event_payload``) carrying the same
  facts as numbers, for any other receiver. docs/digest.md documents the body.

Data text is escaped for mrkdwn (``&``, ``<``, ``>``), so an agency name cannot ping a channel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from resolve311.digest.model import Digest, Movement, describe
from resolve311.digest.signals import n_counts

MAX_BLOCKS: Final = 50
MAX_SECTION: Final = 2900
MAX_HEADER: Final = 150
EVENT_TYPE: Final = "resolve311_digest"


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    """A Slack mrkdwn link (blocks are Slack's)."""
    return f"<{esc(url)}|{esc(label)}>"


def _text_link(url: str, label: str, fmt: str) -> str:
    if fmt == "teams":
        return f"[{label.replace('[', '(').replace(']', ')')}]({url.replace(')', '%29')})"
    return link(url, label)


def _plain(text: str) -> str:
    return text


def _line(m: Movement, d: Digest, e: Callable[[str], str] = esc) -> str:
    return f"{e(m.verdict.upper())}: {e(describe(m, d.short_baseline))}"


def _agency(head: Movement, fmt: str) -> str:
    e = esc if fmt == "slack" else _plain
    return f"*{_text_link(head.link, head.agency_name, fmt)}* ({e(head.agency)})"


def text(d: Digest) -> str:
    """The whole digest as one message text (Slack mrkdwn, or Teams markdown: no entity escaping)."""
    fmt = d.webhook_format
    e = esc if fmt == "slack" else _plain
    lines = [f"*resolve311 digest: {e(d.title)}* ({e(d.window)} window vs {e(d.baseline_text)})"]
    lines.append(e(d.headline))
    for head, group in d.by_agency():
        lines.append(_agency(head, fmt))
        lines += [f"- {_line(m, d, e)}" for m in group]
    if d.more:
        lines.append(f"... and {d.more} more flag(s) on {_text_link(d.overview_link, 'the overview', fmt)}")
    for row in d.summary:
        cells = "; ".join(f"{label} {value} {rel}".rstrip() for label, value, rel in row.cells)
        lines.append(f"- {_text_link(row.link, row.agency, fmt)}: {e(cells)}")
    lines.append(_text_link(d.overview_link, "Open the dashboard", fmt))
    return ("\n\n" if fmt == "teams" else "\n").join(lines)


def blocks(d: Digest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"resolve311: {d.title}"[:MAX_HEADER]}},
        _context(f"{d.window} window vs {d.baseline_text}"),
    ]
    out.append(_section(esc(d.headline)))
    for head, group in d.by_agency():
        out.append(_section("\n".join([_agency(head, "slack"), *(f"• {_line(m, d)}" for m in group)])))
    if d.more:
        out.append(_section(f"… and {d.more} more flag(s) on {link(d.overview_link, 'the overview')}"))
    if d.summary:
        rows = [
            f"• {link(r.link, r.agency)}: "
            + esc("; ".join(f"{label} {value} {rel}".rstrip() for label, value, rel in r.cells))
            for r in d.summary
        ]
        out.append(_section("*Daily summary*\n" + "\n".join(rows)))
    out = out[: MAX_BLOCKS - 1]
    out.append(
        _context(f"{link(d.overview_link, 'Open the dashboard')} · {link(d.health_link, 'delivery status')}")
    )
    return out


def _section(mrkdwn: str) -> dict[str, Any]:
    if len(mrkdwn) > MAX_SECTION:
        mrkdwn = mrkdwn[: MAX_SECTION - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def _context(mrkdwn: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn[:MAX_SECTION]}]}


def facts(d: Digest, digest_key: str) -> dict[str, Any]:
    """The digest as numbers: what Slack keeps as message metadata, and any receiver can parse."""
    return {
        "digest_id": digest_key,
        "subscriber": d.subscriber,
        "as_of_date": d.as_of_date,
        "window": d.window,
        "baseline": d.baseline,
        "quiet": d.quiet,
        "more": d.more,
        "values_tested": d.tested,
        "expected_by_chance": d.expected,
        "dashboard": d.overview_link,
        "flags": [
            {
                "agency": m.agency,
                "agency_name": m.agency_name,
                "metric": m.signal.metric,
                "verdict": m.verdict,
                "recent": m.signal.recent,
                "baseline_value": m.signal.historical,
                "change": m.signal.diff_abs,
                "change_rel": m.signal.diff_rel,
                "score": m.signal.score,
                "threshold": m.signal.threshold,
                "p_value": m.signal.p_value,
                "n": m.signal.n,
                "n_counts": n_counts(m.signal.metric),
                "n_baseline": m.signal.n_baseline,
                "false_alarm_rate": m.signal.false_alarm_rate,
                "false_alarm_days": m.signal.days_evaluated,
                "link": m.link,
            }
            for m in d.movements
        ],
    }


def payload(d: Digest, digest_key: str) -> dict[str, Any]:
    """The JSON body POSTed to a subscriber's webhook."""
    return {
        "text": text(d),
        "blocks": blocks(d),
        "metadata": {"event_type": EVENT_TYPE, "event_payload": facts(d, digest_key)},
    }

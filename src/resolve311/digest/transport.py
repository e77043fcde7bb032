"""The two ways out: SMTP (smtplib) and a webhook POST (httpx). Errors classified, secrets redacted.

A :class:`DeliveryError` is ``permanent`` when retrying cannot help for this target (the SMTP
server refused the recipient with a 5xx; the webhook answered 4xx other than 408/429);
everything else (connection refused, timeouts, 4xx SMTP replies, 5xx HTTP) is transient.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx

from resolve311.settings import DigestSettings


class DeliveryError(Exception):
    """One delivery failed; ``permanent`` says whether retrying could help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """The one redaction (resolve311.logs.redact): every representation of each secret."""
    from resolve311.logs import redact as redact_all

    return redact_all(text, [s for s in secrets if s])


def webhook_host(url: str) -> str:
    """What may be shown of a webhook URL: its scheme and host (the path holds the secret)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}{':' + str(parts.port) if parts.port else ''}/…"


def _tls_context(cfg: DigestSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cfg.smtp_ca_file) if cfg.smtp_ca_file else None)


def send_email(cfg: DigestSettings, msg: EmailMessage) -> None:
    """Hand one message (one recipient) to the SMTP server; raise :class:`DeliveryError` on failure."""
    try:
        _smtp_send(cfg, msg)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise DeliveryError(
            _smtp_text("recipient refused", exc.recipients), permanent=all(c >= 500 for c in codes)
        ) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP authentication failed ({exc.smtp_code})", permanent=False) from None
    except smtplib.SMTPResponseException as exc:
        detail = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        raise DeliveryError(f"SMTP {exc.smtp_code}: {detail[:200]}", permanent=False) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {type(exc).__name__}: {str(exc)[:200]}", permanent=False) from None


def _smtp_text(what: str, recipients: dict[str, Any]) -> str:
    parts = []
    for address, (code, reply) in recipients.items():
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        parts.append(f"{address}: {code} {text[:160]}")
    return f"{what}: {'; '.join(parts)}"


def _smtp_send(cfg: DigestSettings, msg: EmailMessage) -> None:
    if cfg.smtp_security == "tls":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout_s, context=_tls_context(cfg)
        )
    else:
        smtp = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout_s)
    with smtp:
        smtp.ehlo()
        if cfg.smtp_security == "starttls":
            smtp.starttls(context=_tls_context(cfg))
            smtp.ehlo()
        password = cfg.password()
        if cfg.smtp_username and password:
            smtp.login(cfg.smtp_username, password)
        smtp.send_message(msg)


def post_webhook(url: str, body: dict[str, Any], timeout_s: float) -> None:
    """POST ``body`` as JSON; 2xx is success."""
    try:
        response = httpx.post(url, json=body, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook {webhook_host(url)}: {type(exc).__name__}", permanent=False) from None
    if response.is_success:
        return
    code = response.status_code
    permanent = 400 <= code < 500 and code not in (408, 429)
    raise DeliveryError(
        f"webhook {webhook_host(url)} answered HTTP {code}: {response.text[:160]}", permanent=permanent
    )

"""The ``[digest]`` table of the settings: the morning digest's subscribers and its SMTP server.

The SMTP password is read only from the environment variable ``RESOLVE311_SMTP_PASSWORD``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from resolve311.errors import ConfigError

SMTP_PASSWORD_ENV = "RESOLVE311_SMTP_PASSWORD"


def _smtp_password_from_env() -> SecretStr | None:
    value = os.environ.get(SMTP_PASSWORD_ENV)
    return SecretStr(value) if value else None


class Subscriber(BaseModel):
    """One digest subscriber: where it goes, what it follows, how much it wants to hear."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=80,
        pattern=r"^[A-Za-z0-9_.@-]+$",
        description="Unique name (letters, digits, _ . @ -).",
    )
    emails: list[str] = Field(
        default_factory=list, description="E-mail addresses; each gets its own message."
    )
    webhook_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="Incoming-webhook URL (Slack, Teams, any JSON receiver).",
    )
    webhook_format: Literal["slack", "teams"] = Field(
        default="slack",
        description="Link syntax of the webhook's text: slack <url|label> or teams [label](url).",
    )
    agencies: list[str] = Field(
        default_factory=list, description='Agency codes followed; empty = every agency; "*" = city-wide.'
    )
    cities: list[str] = Field(
        default_factory=list, description="Cities followed in a several-city home; empty = every city."
    )
    metrics: list[str] = Field(default_factory=list, description="Scorecard metrics followed; empty = all.")
    sensitivity: Literal["flags", "summary"] = Field(
        default="flags", description="flags: only flagged changes; summary: also a daily summary."
    )
    when_quiet: Literal["line", "skip"] = Field(
        default="line", description='Nothing flagged: say "nothing unusual" in one line, or skip the message.'
    )
    window: Literal["1d", "7d", "28d"] = Field(default="7d", description="Recent window compared.")
    baseline: Literal["8w", "1y"] = Field(default="8w", description="Baseline it is compared with.")

    @field_validator("emails")
    @classmethod
    def _addresses(cls, emails: list[str]) -> list[str]:
        for address in emails:
            if not re.fullmatch(r"[^@\s<>,;]+@[^@\s<>,;]+", address):
                raise ValueError(f"not an e-mail address: {address[:80]!r}")
        return emails

    @model_validator(mode="after")
    def _has_a_channel(self) -> Subscriber:
        if not self.emails and not self.webhook_url:
            raise ValueError(f"subscriber {self.name!r} has neither emails nor a webhook_url")
        return self


class DigestSettings(BaseModel):
    """The ``[digest]`` table. The SMTP password only from ``RESOLVE311_SMTP_PASSWORD``."""

    model_config = ConfigDict(extra="forbid")

    subscribers: list[Subscriber] = Field(default_factory=list, description="[[digest.subscribers]] entries.")
    dashboard_url: str = Field(
        default="http://127.0.0.1:8050",
        pattern=r"^https?://",
        description="Base URL of the dashboard, for deep links.",
    )
    from_address: str = Field(default="resolve311@localhost", description="From: address of the e-mails.")
    smtp_host: str = Field(default="localhost", description="SMTP server.")
    smtp_port: int = Field(
        default=587, ge=1, le=65535, description="SMTP port (587 STARTTLS, 465 TLS, 25 none)."
    )
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls", description="starttls (upgrade), tls (implicit, port 465) or none."
    )
    smtp_username: str | None = Field(
        default=None, description="SMTP login; the password only from RESOLVE311_SMTP_PASSWORD."
    )
    smtp_password: SecretStr | None = Field(
        default_factory=_smtp_password_from_env,
        exclude=True,
        description="Only from RESOLVE311_SMTP_PASSWORD.",
    )
    smtp_ca_file: Path | None = Field(
        default=None, description="CA bundle to trust for the SMTP server's certificate."
    )
    timeout_s: float = Field(
        default=30.0, gt=0, description="Timeout of one SMTP or webhook exchange, seconds."
    )
    attempts: int = Field(default=3, ge=1, le=20, description="Attempts per target within one run.")
    retry_base_s: float = Field(
        default=2.0, ge=0, description="First delay between attempts, seconds (doubles)."
    )
    max_attempts: int = Field(
        default=12, ge=1, description="Attempts per target and day over all runs, then give up."
    )
    retry_minutes: float = Field(
        default=15.0, gt=0, description="`up` retries failed deliveries after this (grows)."
    )

    @model_validator(mode="before")
    @classmethod
    def _password_only_from_env(cls, data: Any) -> Any:
        if isinstance(data, dict) and "smtp_password" in data:
            raise ValueError(f"smtp_password is read only from the environment variable {SMTP_PASSWORD_ENV}")
        return data

    @model_validator(mode="after")
    def _unique_names(self) -> DigestSettings:
        names = [s.name for s in self.subscribers]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"subscriber names must be unique: {', '.join(twice)}")
        return self

    def password(self) -> str | None:
        """The SMTP password in clear, for ``login`` only."""
        return self.smtp_password.get_secret_value() if self.smtp_password else None

    def subscriber(self, name: str) -> Subscriber:
        """The subscriber called ``name`` (ConfigError naming the known ones otherwise)."""
        for sub in self.subscribers:
            if sub.name == name:
                return sub
        known = ", ".join(s.name for s in self.subscribers) or "none configured"
        raise ConfigError(f"no digest subscriber {name!r} (known: {known})")

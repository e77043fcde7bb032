"""One typed settings object.

Precedence, lowest first: defaults < ``resolve311.toml`` (in the working
directory, or the file named by ``RESOLVE311_CONFIG``) < environment variables
``RESOLVE311_*`` < command-line flags (passed to :func:`load_settings` as
overrides). The Socrata app token comes only from the environment variable
``SOCRATA_APP_TOKEN`` and is never printed: use :meth:`Settings.redacted`.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from resolve311.errors import ConfigError
from resolve311.logs import register_secret
from resolve311.settings.digest import DigestSettings
from resolve311.sources.catalog import Source, get_source

CONFIG_FILE_ENV = "RESOLVE311_CONFIG"
DEFAULT_CONFIG_FILE = "resolve311.toml"


class Settings(BaseSettings):
    """Every setting of resolve311. Each field is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="RESOLVE311_", env_nested_delimiter="__", extra="forbid")

    # --- where things live
    home: Path = Field(Path(".resolve311"), description="Data directory (warehouse, landing log, snapshot).")
    landing_url: str | None = Field(
        None,
        description="Landing log location: a path or fsspec URL (s3://bucket/prefix). Default: HOME/landing.",
    )

    # --- the source
    source: str = Field("nyc", description="Source name from the catalog (nyc, chicago, sf, ...).")
    cities: list[str] = Field(
        default_factory=list,
        description='Several sources kept in one home, each under HOME/cities/<name>/ (e.g. ["nyc", "chicago", "sf"]). Empty: only `source`, directly in HOME.',
    )
    city_urls: dict[str, str] = Field(
        default_factory=dict,
        description='Per-city portal override in a several-city home (e.g. {chicago = "http://127.0.0.1:8061"}); a city not named uses `socrata_url` or its own portal.',
    )
    socrata_url: str | None = Field(
        None,
        description="Base URL of the Socrata portal; overrides the source's `domain` (e.g. a simulator).",
    )
    app_token: SecretStr | None = Field(
        None, description="Socrata app token; only from the SOCRATA_APP_TOKEN environment variable."
    )
    soda_version: Literal["2.1", "3"] = Field(
        "2.1", description="SODA API flavour: 2.1 (GET) or 3 (POST, needs a token)."
    )
    page_size: int = Field(50_000, ge=1, description="Rows per page.")
    request_timeout_s: float = Field(60.0, gt=0, description="Read timeout of one HTTP request, seconds.")
    retry_budget_s: float = Field(
        600.0,
        ge=0,
        description="Longest time one request may keep failing before the run ends as source_unavailable, seconds.",
    )
    retry_base_s: float = Field(1.0, ge=0, description="First backoff delay, seconds (doubles, with jitter).")
    retry_max_s: float = Field(60.0, ge=0, description="Longest single backoff delay, seconds.")
    overlap_minutes: int = Field(10, ge=0, description="Re-read this far behind the stored watermark.")
    trailing_days: int = Field(
        3, ge=0, description="Re-pull requests created in the last N days on every update."
    )
    full_replace_ratio: float = Field(
        0.5,
        gt=0,
        description="A run whose changed rows exceed this share of the dataset is reported as a full replace.",
    )
    full_replace_min_rows: int = Field(
        10_000, ge=0, description="Never report a full replace when fewer rows than this changed."
    )

    # --- metrics
    recent: Literal["1d", "7d", "28d"] = Field("1d", description="Default recent window shown first.")
    anomaly_threshold: float = Field(
        3.5,
        gt=0,
        description="Smallest |robust score| that can be flagged (the calibrated threshold is never lower).",
    )
    anomaly_target_rate: float = Field(
        0.01,
        gt=0,
        lt=0.5,
        description="Target false-alarm rate per agency-metric-day; each agency's thresholds are calibrated on its own history to stay at or below it.",
    )
    min_group_size: int = Field(
        20,
        ge=1,
        description="Values whose own n (the metric's population) is below this are small: greyed, never flagged or ranked.",
    )
    engine: Literal["duckdb", "spark"] = Field("duckdb", description="Metric engine.")
    spark_master: str = Field("local[2]", description="Spark master URL or sc:// Spark Connect URL.")
    spark_driver_memory: str = Field(
        "4g",
        description="Driver memory for local Spark masters (the driver does all the work there); "
        "a --driver-memory in PYSPARK_SUBMIT_ARGS wins.",
    )
    metrics_memory_limit: str = Field(
        "4GB",
        pattern=r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$",
        description="Most memory DuckDB may use during a metrics refresh; beyond it, it spills to HOME/tmp (any history length fits).",
    )

    # --- running every day
    schedule: str = Field(
        "0 6 * * *", description="Cron expression for the daily update, in the city's time zone."
    )
    timezone: str | None = Field(
        None, description="Overrides the source's time zone (for the schedule and the metrics' as-of)."
    )
    retry_unavailable_minutes: float = Field(
        60.0, gt=0, description="Retry period after a source_unavailable run."
    )
    history_days: int = Field(730, ge=1, description="Backfill this many days when the warehouse is empty.")
    history_year_earlier: bool = Field(
        True, description="Also backfill the same period a year earlier, for baselines."
    )
    background_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="CPU nice value the data commands (update, backfill, import, rebuild, metrics) lower "
        "themselves to, so the dashboard answers first while they run; 0 keeps normal priority.",
    )

    # --- web
    host: str = Field("127.0.0.1", description="Dashboard bind address.")
    port: int = Field(8050, ge=0, le=65535, description="Dashboard port.")
    web_workers: int = Field(
        2, ge=1, le=64, description="Dashboard server (gunicorn) worker processes; each opens the snapshot."
    )
    web_threads: int = Field(8, ge=1, le=256, description="Threads per dashboard worker process.")
    web_timeout_s: float = Field(
        30.0,
        gt=0,
        description="Longest time a client may take to send one request body, seconds (and the worker timeout).",
    )
    web_max_body_kb: int = Field(
        1024, ge=1, description="Largest request body the dashboard accepts, KiB (bigger: 413 at once)."
    )
    log_format: Literal["text", "json"] = Field("text", description="Log format: text or json lines.")
    log_level: str = Field("INFO", description="Log level.")

    # --- the morning digest (docs/digest.md)
    digest: DigestSettings = Field(
        default_factory=lambda: DigestSettings(),
        description="The morning digest: subscribers, SMTP, dashboard links ([digest] table).",
    )

    # --- publishing beyond the serving file (docs/consumers.md)
    lake_url: str | None = Field(
        None,
        description="Open Parquet lake: a folder or fsspec URL (s3://bucket/prefix) kept up to date by every run.",
    )
    publish_url: SecretStr | None = Field(
        None,
        description="PostgreSQL URL (postgresql://user:pass@host/db) the serving tables are published to.",
    )
    publish_schema: str = Field(
        "resolve311",
        pattern=r"^[a-z_][a-z0-9_]{0,40}$",
        description="PostgreSQL schema of the published tables (a staging schema is named after it).",
    )

    # --- backfill concurrency (issue 11)
    backfill_workers: int = Field(
        4,
        ge=1,
        le=64,
        description="Backfill windows pulled at once (requests in flight); 1 pulls one at a time.",
    )
    request_rate: float = Field(
        0.0,
        ge=0,
        description="Most requests per second sent to the source, all threads together (0: no limit).",
    )

    @field_validator("cities")
    @classmethod
    def _city_names(cls, cities: list[str]) -> list[str]:
        """Each city once, named as a catalog file and a directory can be (lower case, digits, _ -)."""
        for name in cities:
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,40}", name):
                raise ValueError(f"not a city name (lower case letters, digits, _ -): {name[:60]!r}")
        twice = sorted({n for n in cities if cities.count(n) > 1})
        if twice:
            raise ValueError(f"each city once: {', '.join(twice)} named twice")
        return cities

    @field_validator("app_token", mode="before")
    @classmethod
    def _usable_token(cls, value: object) -> object:
        """Strip surrounding whitespace (CR/LF from env files); refuse what no HTTP header can carry."""
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(raw, str):
            return value
        register_secret(raw)
        token = raw.strip()
        if not token:
            return None
        register_secret(token)
        problem = token_problem(token)
        if problem:
            raise ValueError(problem)
        return token

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path),
        )

    #: The home a city's settings were derived from (its ``sources/`` folder holds custom catalogs).
    _parent_home: Path | None = PrivateAttr(default=None)

    # --- derived paths
    @property
    def catalog_dir(self) -> Path:
        """Custom catalog files: ``HOME/sources`` of the home (shared by every city of a several-city home)."""
        return (self._parent_home or self.home) / "sources"

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def snapshot_path(self) -> Path:
        return self.home / "serving.duckdb"

    @property
    def landing_location(self) -> str:
        return self.landing_url or str(self.home / "landing")

    @property
    def spill_path(self) -> Path:
        return self.home / "tmp"

    @property
    def lock_path(self) -> Path:
        return self.home / "update.lock"

    def city_names(self) -> list[str]:
        """The sources this home keeps: ``cities`` when set, else just ``source``."""
        return list(self.cities) or [self.source]

    @property
    def several_cities(self) -> bool:
        """True when the home keeps its sources under ``HOME/cities/<name>/``."""
        return bool(self.cities)

    def for_city(self, name: str) -> Settings:
        """The settings of one city of this home.

        A single-city home returns itself for its own source. In a several-city
        home each city gets its own directory (warehouse, landing log, snapshot,
        lock) and its own namespace in the landing and lake URLs.
        """
        if not self.several_cities:
            if name != self.source:
                raise ConfigError(f"unknown city {name!r}: this home keeps only {self.source!r}")
            return self
        if name not in self.cities:
            raise ConfigError(f"unknown city {name!r}: this home keeps {', '.join(self.cities)}")
        city = self.model_copy(
            update={
                "source": name,
                "cities": [],
                "city_urls": {},
                "home": self.home / "cities" / name,
                "socrata_url": self.city_urls.get(name, self.socrata_url),
                "landing_url": _namespaced(self.landing_url, name),
                "lake_url": _namespaced(self.lake_url, name),
                "publish_schema": f"{self.publish_schema}_{name}",
            }
        )
        city._parent_home = self.home
        return city

    def one_city(self, name: str | None = None) -> Settings:
        """The settings of city ``name``, or of the only city when ``name`` is None.

        A several-city home with more than one city needs a name (ConfigError listing them).
        """
        if name is None:
            if len(self.city_names()) > 1:
                raise ConfigError(f"this home keeps {', '.join(self.cities)}: name one with --city")
            name = self.city_names()[0]
        return self.for_city(name)

    def each_city(self, name: str | None = None) -> list[Settings]:
        """The settings of city ``name``, or of every city of the home when ``name`` is None."""
        return [self.for_city(n) for n in ([name] if name else self.city_names())]

    def city(self) -> Source:
        """The configured source from the catalog (built-ins and ``HOME/sources``)."""
        return get_source(self.source, self.catalog_dir)

    def city_timezone(self) -> str:
        """The time zone of the schedule and the metrics: ``timezone`` if set, else the source's."""
        return self.timezone or self.city().timezone

    def portal_url(self, source: Source | None = None) -> str:
        """The Socrata portal to read: ``socrata_url`` if set, else the source's ``domain``."""
        return self.socrata_url or (source or self.city()).domain

    def token(self) -> str | None:
        """The app token in clear, for the HTTP header only."""
        return self.app_token.get_secret_value() if self.app_token else None

    def redacted(self) -> dict[str, Any]:
        """All settings as plain values, the token replaced by ``***``."""
        data = self.model_dump(mode="json")
        if data.get("app_token"):
            data["app_token"] = "***"
        for sub in data.get("digest", {}).get("subscribers", []):
            if sub.get("webhook_url"):
                sub["webhook_url"] = sub["webhook_url"].split("//", 1)[0] + "//***"
        return data


def _namespaced(url: str | None, name: str) -> str | None:
    """``url`` with the city appended as one more path level (None stays None)."""
    return None if url is None else f"{url.rstrip('/')}/{name}"


def token_problem(token: str) -> str | None:
    """Why ``token`` (already stripped) cannot be sent as an HTTP header value; None when it can.

    The message never contains the token itself.
    """
    if not token.isascii():
        return "SOCRATA_APP_TOKEN contains non-ASCII characters; an HTTP header cannot carry it"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in token):
        return "SOCRATA_APP_TOKEN contains control characters (e.g. a line break inside it)"
    return None


def load_settings(**overrides: Any) -> Settings:
    """Build the settings; ``overrides`` are command-line flags (None values are ignored).

    Raises :class:`ConfigError` with a one-line message on any invalid value.
    """
    flags = {k: v for k, v in overrides.items() if v is not None}
    token = os.environ.get("SOCRATA_APP_TOKEN")
    if token and "app_token" not in flags:
        flags["app_token"] = token
    try:
        return Settings(**flags)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_file_path()}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        if where == "app_token":  # the message names the problem, never the value
            raise ConfigError(str(first["msg"]).removeprefix("Value error, ")) from None
        raise ConfigError(f"invalid setting {where}: {first['msg']}") from None


def config_file_path() -> Path:
    """The TOML file consulted for settings (it need not exist)."""
    return Path(os.environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))


def setting_origins(**overrides: Any) -> dict[str, str]:
    """Where each setting's effective value comes from: flag, environment, file or default."""
    path = config_file_path()
    in_file: dict[str, Any] = tomllib.loads(path.read_text()) if path.is_file() else {}
    origins: dict[str, str] = {}
    for name in Settings.model_fields:
        env_name = "SOCRATA_APP_TOKEN" if name == "app_token" else f"RESOLVE311_{name.upper()}"
        if overrides.get(name) is not None:
            origins[name] = "flag"
        elif env_name in os.environ or any(k.startswith(env_name + "__") for k in os.environ):
            origins[name] = f"environment ({env_name})"
        elif name in in_file:
            origins[name] = f"file ({path})"
        else:
            origins[name] = "default"
    return origins

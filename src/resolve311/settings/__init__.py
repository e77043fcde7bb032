"""The settings: one typed object (:mod:`.model`) and its ``[digest]`` table (:mod:`.digest`).

Precedence, lowest first: defaults < ``resolve311.toml`` < environment variables ``RESOLVE311_*``
< command-line flags; see :mod:`resolve311.settings.model`.
"""

from resolve311.settings.digest import DigestSettings, Subscriber
from resolve311.settings.model import Settings, load_settings, setting_origins

__all__ = ["DigestSettings", "Settings", "Subscriber", "load_settings", "setting_origins"]

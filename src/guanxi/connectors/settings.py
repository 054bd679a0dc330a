"""A connector's own settings: a pydantic-settings model read from the environment.

A connector that needs configuration (an app key, the platform's base URL) declares its
model as ``settings_model`` and reads it with ``connector_settings`` in ``from_settings``:
guanxi's ``Settings`` never names a platform, so a plugin connector brings its own
variables. Values given to ``Settings`` in code under the variables' names
(``Settings(weibo_app_key=...)`` for ``GUANXI_WEIBO_APP_KEY``, as tests and the benchmark
do) take precedence over the environment, as for guanxi's own settings.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic_settings import BaseSettings

from guanxi.core.settings import ENV_PREFIX, Settings

Model = TypeVar("Model", bound=BaseSettings)


def settings_prefix(model: type[BaseSettings]) -> str:
    """The prefix of the variables the model reads (its ``env_prefix``), upper-cased."""
    return str(model.model_config.get("env_prefix", "")).upper()


def connector_settings(model: type[Model], settings: Settings) -> Model:
    """``model`` read from the environment, with the values ``settings`` was given in code
    under the same names taking precedence."""
    prefix = settings_prefix(model).removeprefix(ENV_PREFIX).lower()
    given = {
        name.removeprefix(prefix): value
        for name, value in (settings.model_extra or {}).items()
        if name.startswith(prefix) and name.removeprefix(prefix) in model.model_fields
    }
    return model(**given)

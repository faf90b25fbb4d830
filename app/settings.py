"""Every setting journeybot reads from the environment (or a `.env` file), typed and checked at start.

One pydantic-settings model; the README's Configuration table lists exactly these variables
(tests/test_settings.py checks both ways). A bad value stops the command with one line naming the
variable and what it expects, in the operator's language; secrets are SecretStr and never print.
Modules read their values from the environment as before: the model's job is to refuse a bad
environment before anything starts (`handlers/cli.py` brings a `.env` file into it first).
"""
from __future__ import annotations

import os
from typing import Any, Literal, Mapping

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Switch = Literal["0", "1", "on", "off", "true", "false", "yes", "no"]


def _var(default: Any = None, *, name: str, expects: str, **kw: Any) -> Any:
    """A field read from the variable `name`; `expects` names its text in prompts/<lang>/cli.yaml."""
    return Field(default, validation_alias=name, json_schema_extra={"expects": expects}, **kw)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=True, env_ignore_empty=True, populate_by_name=False)

    database_url: str | None = _var(name="DATABASE_URL", expects="database_url")
    sqlite_synchronous: Literal["FULL", "NORMAL", "full", "normal"] = _var("FULL", name="JOURNEYBOT_SQLITE_SYNCHRONOUS", expects="synchronous")
    auto_migrate: Switch = _var("1", name="JOURNEYBOT_AUTO_MIGRATE", expects="switch")
    user: str | None = _var(name="JOURNEYBOT_USER", expects="text")
    lang: Literal["nl", "en"] | None = _var(name="JOURNEYBOT_LANG", expects="language")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "debug", "info", "warning", "error", "critical"] = _var(
        "WARNING", name="JOURNEYBOT_LOG_LEVEL", expects="log_level"
    )
    log_format: Literal["text", "json"] = _var("text", name="JOURNEYBOT_LOG_FORMAT", expects="log_format")
    shutdown_timeout: float = _var(20.0, name="JOURNEYBOT_SHUTDOWN_TIMEOUT", expects="seconds", gt=0)
    health_listen: str = _var("127.0.0.1", name="JOURNEYBOT_HEALTH_LISTEN", expects="text")
    health_port: int | None = _var(name="JOURNEYBOT_HEALTH_PORT", expects="port", ge=1, le=65535)

    telegram_bot_token: SecretStr | None = _var(name="TELEGRAM_BOT_TOKEN", expects="telegram_token")
    telegram_api_url: str | None = _var(name="TELEGRAM_API_URL", expects="url")
    telegram_webhook_url: str | None = _var(name="TELEGRAM_WEBHOOK_URL", expects="https_url")
    telegram_webhook_secret: SecretStr | None = _var(name="TELEGRAM_WEBHOOK_SECRET", expects="webhook_secret")
    telegram_webhook_listen: str = _var("0.0.0.0", name="TELEGRAM_WEBHOOK_LISTEN", expects="text")
    telegram_webhook_port: int = _var(8443, name="TELEGRAM_WEBHOOK_PORT", expects="port", ge=1, le=65535)
    telegram_webhook_path: str | None = _var(name="TELEGRAM_WEBHOOK_PATH", expects="text")
    telegram_overall_max_rate: float = _var(30.0, name="TELEGRAM_OVERALL_MAX_RATE", expects="rate", gt=0)

    slack_bot_token: SecretStr | None = _var(name="SLACK_BOT_TOKEN", expects="slack_bot_token")
    slack_signing_secret: SecretStr | None = _var(name="SLACK_SIGNING_SECRET", expects="text")
    slack_app_token: SecretStr | None = _var(name="SLACK_APP_TOKEN", expects="slack_app_token")
    slack_api_url: str | None = _var(name="SLACK_API_URL", expects="url")
    port: int = _var(3000, name="PORT", expects="port", ge=1, le=65535)

    outbox_interval: float = _var(1.0, name="JOURNEYBOT_OUTBOX_INTERVAL", expects="seconds", ge=0)
    reminder_interval: float = _var(60.0, name="JOURNEYBOT_REMINDER_INTERVAL", expects="seconds", ge=0)

    openai_api_key: SecretStr | None = _var(name="OPENAI_API_KEY", expects="text")
    openai_base_url: str | None = _var(name="OPENAI_BASE_URL", expects="url")
    openai_model: str = _var("gpt-4.1-mini", name="OPENAI_MODEL", expects="text")
    llm: Switch = _var("on", name="JOURNEYBOT_LLM", expects="switch")
    llm_timeout: float = _var(45.0, name="JOURNEYBOT_LLM_TIMEOUT", expects="seconds", gt=0)
    llm_total: float = _var(90.0, name="JOURNEYBOT_LLM_TOTAL", expects="seconds", gt=0)
    llm_context: int | None = _var(name="JOURNEYBOT_LLM_CONTEXT", expects="tokens", ge=1024)
    openai_transcribe_model: str | None = _var(name="OPENAI_TRANSCRIBE_MODEL", expects="text")
    voice_max_seconds: float = _var(120.0, name="JOURNEYBOT_VOICE_MAX_SECONDS", expects="seconds", gt=0)
    voice_max_bytes: int = _var(5_000_000, name="JOURNEYBOT_VOICE_MAX_BYTES", expects="bytes", ge=1)

    public_url: str | None = _var(name="JOURNEYBOT_PUBLIC_URL", expects="url")
    web_listen: str = _var("127.0.0.1", name="JOURNEYBOT_WEB_LISTEN", expects="text")
    web_port: int = _var(8080, name="JOURNEYBOT_WEB_PORT", expects="port", ge=1, le=65535)
    trust_proxy: Switch = _var("0", name="JOURNEYBOT_TRUST_PROXY", expects="switch")
    currency: str = _var("EUR", name="JOURNEYBOT_CURRENCY", expects="currency", pattern=r"^[A-Za-z]{3}$")

    @field_validator("auto_migrate", "llm", "trust_proxy", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("telegram_api_url", "slack_api_url", "openai_base_url", "public_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("not an http(s) URL")
        return value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("not an https URL")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        import re

        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("not 1-256 of A-Za-z0-9_-")
        return value


class BadSetting(ValueError):
    """A variable with a value journeybot cannot use: `name`, its `value` (never a secret's) and
    the key of what it expects (prompts/<lang>/cli.yaml `settings.expects.*`)."""

    def __init__(self, name: str, value: str, expects: str) -> None:
        super().__init__(f"{name}: expected {expects}")
        self.name, self.value, self.expects = name, value, expects


SECRET_NAMES = frozenset(
    name for name, f in Settings.model_fields.items() if f.annotation is not None and "SecretStr" in str(f.annotation)
)


def variables() -> dict[str, str]:
    """Variable name -> what it expects, for every setting."""
    return {str(f.validation_alias): str((f.json_schema_extra or {}).get("expects", "text")) for f in Settings.model_fields.values()}  # type: ignore[union-attr]


def check(env: Mapping[str, str] | None = None) -> Settings:
    """The settings of `env` (the environment by default), or BadSetting for the first bad one."""
    env = os.environ if env is None else env
    known = variables()
    try:
        return Settings.model_validate({k: v for k, v in env.items() if k in known and str(v).strip() != ""})
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error.get("loc") else "?"
        secret = any(str(Settings.model_fields[f].validation_alias) == name for f in SECRET_NAMES)
        value = "…" if secret else str(env.get(name, ""))
        raise BadSetting(name, value, known.get(name, "text")) from None

"""One typed settings model (app/settings.py) for every variable in the README's table: a bad value
stops a command with one line naming the variable and what it expects, in the operator's language;
secrets never print; a .env file is read."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.settings import SECRET_NAMES, BadSetting, Settings, check, variables
from handlers.cli import load_env_file, main

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_variables() -> set[str]:
    text = README.read_text(encoding="utf-8")
    table = text.split("## Configuration", 1)[1].split("\n### ", 1)[0]
    names: set[str] = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first))
    return names


def test_the_readme_table_lists_exactly_the_settings() -> None:
    assert readme_variables() == set(variables())


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JOURNEYBOT_REMINDER_INTERVAL", "5m"),
        ("JOURNEYBOT_OUTBOX_INTERVAL", "-1"),
        ("TELEGRAM_WEBHOOK_PORT", "84430"),
        ("PORT", "http"),
        ("JOURNEYBOT_LANG", "de"),
        ("JOURNEYBOT_LOG_FORMAT", "xml"),
        ("JOURNEYBOT_SQLITE_SYNCHRONOUS", "OFF"),
        ("TELEGRAM_WEBHOOK_URL", "http://plain.example.com/hook"),
        ("JOURNEYBOT_PUBLIC_URL", "survey.example.com"),
        ("JOURNEYBOT_LLM_TIMEOUT", "0"),
        ("JOURNEYBOT_AUTO_MIGRATE", "maybe"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(name: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("JOURNEYBOT_LANG", "nl" if name != "JOURNEYBOT_LANG" else value)
    assert main(["list"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"{name}={value} ") and "Traceback" not in err
    if name != "JOURNEYBOT_LANG":
        assert "verwacht" in err  # in the operator's language


def test_secrets_never_print(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "not-a-valid-webhook-secret!s3cr3t"
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", secret)
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert "TELEGRAM_WEBHOOK_SECRET" in err and secret not in err
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET")
    settings = check({"TELEGRAM_BOT_TOKEN": "123456:ABC-def", "OPENAI_API_KEY": "sk-very-secret"})
    assert "sk-very-secret" not in repr(settings) and "123456:ABC-def" not in str(settings.model_dump())
    assert {"telegram_bot_token", "slack_bot_token", "openai_api_key", "telegram_webhook_secret"} <= SECRET_NAMES


def test_defaults_and_a_dotenv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = check({})
    assert settings.reminder_interval == 60 and settings.port == 3000 and settings.telegram_webhook_port == 8443
    (tmp_path / ".env").write_text("JOURNEYBOT_WEB_PORT=9090\nJOURNEYBOT_LANG=en\n", encoding="utf-8")
    environ = {"JOURNEYBOT_LANG": "nl"}
    load_env_file(tmp_path / ".env", environ)
    assert environ == {"JOURNEYBOT_LANG": "nl", "JOURNEYBOT_WEB_PORT": "9090"}  # what is set wins
    assert check(environ).web_port == 9090
    with pytest.raises(BadSetting):
        check({"JOURNEYBOT_WEB_PORT": "0"})
    assert isinstance(Settings.model_fields, dict)

"""The container files, checked without Docker: compose.yaml parses and runs only real journeybot
commands, every setting it or .env.example names is documented in README's Configuration table,
the Dockerfile installs the project with pip and runs the console script as a user other than root,
and the proxy sends the webhook path to the workers' port."""
from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
ENV_EXAMPLE = ROOT / ".env.example"
OTHER_IMAGES = ("postgres:", "caddy:")  # their own variables (POSTGRES_USER …) are theirs to document
SECRETS = {"TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "POSTGRES_PASSWORD", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "OPENAI_API_KEY"}


def compose(with_slack: bool = False) -> dict[str, Any]:
    """compose.yaml as Compose reads it; `with_slack` first uncomments the Slack alternative as its comment says."""
    lines = COMPOSE.read_text(encoding="utf-8").splitlines()
    if with_slack:
        start = next(i for i, line in enumerate(lines) if line.strip() == "# >>> slack")
        end = next(i for i, line in enumerate(lines) if line.strip() == "# <<< slack")
        assert end - start > 3, "the Slack alternative is missing"
        lines[start + 1 : end] = [re.sub(r"^(\s*)# ?", r"\1", line, count=1) for line in lines[start + 1 : end]]
    data = yaml.safe_load("\n".join(lines))
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


def ours(service: dict[str, Any]) -> bool:
    """A service that runs the journeybot image (built from this Dockerfile)."""
    return "build" in service or str(service.get("image", "")).startswith("journeybot")


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined, comments left out."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def env_example() -> dict[str, str]:
    """Every name in .env.example, set or commented out, with its example value."""
    found = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if m:
            found[m.group(1)] = m.group(2).strip()
    return found


def table_names(section: str) -> set[str]:
    """The variables in the first column of the tables in `section` of the README."""
    names: set[str] = set()
    for row in section.splitlines():
        row = row.strip()
        if row.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", row.split("|")[1]))
    return names


def documented() -> tuple[set[str], set[str]]:
    """journeybot's settings (README's Configuration table) and the variables compose.yaml reads
    itself (the table in README's Deployment section)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    settings = table_names(readme.split("\n## Configuration\n", 1)[1].split("\n#", 1)[0])
    assert "DATABASE_URL" in settings and "TELEGRAM_BOT_TOKEN" in settings, "the Configuration table was not found"
    deployment = readme.split("\n## Deployment\n", 1)[1].split("\n## ", 1)[0]
    return settings, table_names(deployment) - settings


def runs(command: list[str]) -> str:
    """The journeybot subcommand `command` runs, as the real parser reads it (it exits on anything else)."""
    try:
        args = build_parser().parse_args(command)
    except SystemExit:
        pytest.fail(f"`journeybot {' '.join(command)}` is not a journeybot command")
    assert args.command, command
    return str(args.command)


# -- compose.yaml ----------------------------------------------------------------------------
@pytest.mark.parametrize("with_slack", [False, True], ids=["as shipped", "slack uncommented"])
def test_every_service_runs_a_real_journeybot_command(with_slack: bool) -> None:
    services = compose(with_slack)["services"]
    commands = {}
    for name, service in services.items():
        if not ours(service):
            continue
        entrypoint = service.get("entrypoint")
        assert entrypoint in (None, ["journeybot"]), f"{name}: entrypoint {entrypoint}"
        command = service.get("command")
        assert isinstance(command, list) and all(isinstance(a, str) for a in command), f"{name}: command must be a list of strings"
        commands[name] = runs(command)
    assert commands.get("migrate") == "db" and services["migrate"]["command"] == ["db", "upgrade"]
    assert commands.get("telegram") == "telegram"
    if with_slack:
        assert commands.get("slack") == "slack"


@pytest.mark.parametrize("with_slack", [False, True], ids=["as shipped", "slack uncommented"])
def test_workers_wait_for_the_migration_and_never_migrate_themselves(with_slack: bool) -> None:
    data = compose(with_slack)
    services = data["services"]
    workers = [n for n, s in services.items() if ours(s) and s["command"][0] in ("telegram", "slack")]
    assert workers == (["telegram", "slack"] if with_slack else ["telegram"])
    for name in workers:
        service = services[name]
        assert env_of(service).get("JOURNEYBOT_AUTO_MIGRATE") == "0", name
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
        assert service["depends_on"]["db"] == {"condition": "service_healthy"}, name
        assert service["deploy"]["replicas"] == 3, name
        assert "ports" not in service, f"{name}: replicas publish no host port; the proxy reaches them"
        assert env_of(service)["DATABASE_URL"].startswith("postgresql://"), name
    migrate = services["migrate"]
    assert migrate["restart"] == "no" and migrate["depends_on"]["db"] == {"condition": "service_healthy"}
    assert env_of(migrate)["DATABASE_URL"] == env_of(services["telegram"])["DATABASE_URL"]
    assert "JOURNEYBOT_AUTO_MIGRATE" not in env_of(migrate)  # `db upgrade` migrates whatever it says


def test_postgresql_keeps_its_data_in_a_named_volume_and_reports_ready() -> None:
    data = compose()
    db = data["services"]["db"]
    assert str(db["image"]).startswith("postgres:")
    volume, _, target = db["volumes"][0].partition(":")
    assert target == "/var/lib/postgresql/data" and volume in (data.get("volumes") or {}), db["volumes"]
    test = " ".join(db["healthcheck"]["test"])
    assert "pg_isready" in test
    user = env_of(db)["POSTGRES_USER"]
    database = env_of(db)["POSTGRES_DB"]
    assert f"-U {user}" in test and f"-d {database}" in test
    assert env_of(data["services"]["telegram"])["DATABASE_URL"].endswith(f"@db:5432/{database}")


def test_the_proxy_sends_the_webhook_path_to_the_workers() -> None:
    data = compose()
    telegram = env_of(data["services"]["telegram"])
    base = env_of(data["services"]["proxy"])["JOURNEYBOT_PUBLIC_URL"]
    assert telegram["TELEGRAM_WEBHOOK_URL"].startswith(base) and telegram["JOURNEYBOT_PUBLIC_URL"] == base  # one public address
    path = telegram["TELEGRAM_WEBHOOK_URL"][len(base) :]
    assert path == "/telegram"
    assert re.fullmatch(r"https://[a-z0-9.-]+", env_example()["JOURNEYBOT_PUBLIC_URL"])  # Caddy's site address: a host, no path
    assert "{$JOURNEYBOT_PUBLIC_URL} {" in CADDYFILE.read_text(encoding="utf-8")
    port = telegram["TELEGRAM_WEBHOOK_PORT"]
    assert port in [str(p) for p in data["services"]["telegram"]["expose"]]
    proxy = data["services"]["proxy"]
    assert any(v.startswith("./deploy/Caddyfile:") for v in proxy["volumes"])
    caddy = CADDYFILE.read_text(encoding="utf-8")
    live = "\n".join(line for line in caddy.splitlines() if not line.strip().startswith("#"))
    block = re.search(r"handle " + re.escape(path) + r" \{(.*?)\n\t\}", live, re.S)
    assert block, f"no route for {path} in deploy/Caddyfile"
    assert re.search(r"name telegram\s+port " + port + r"\b", block.group(1)) and "lb_policy round_robin" in block.group(1)
    # the Slack route, once uncommented, reaches the slack service's port
    slack = compose(with_slack=True)["services"]["slack"]
    slack_port = slack["command"][slack["command"].index("--port") + 1]
    uncommented = re.sub(r"(?m)^(\s*)# ?", r"\1", caddy)
    block = re.search(r"handle /slack/events \{(.*?)\n\t\}", uncommented, re.S)
    assert block and re.search(r"name slack\s+port " + slack_port + r"\b", block.group(1))


# -- settings ----------------------------------------------------------------------------------
def names_in_compose_and_env() -> set[str]:
    raw = COMPOSE.read_text(encoding="utf-8")
    names = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", raw))  # what the operator sets, comments included
    for service in compose(with_slack=True)["services"].values():
        if not str(service.get("image", "")).startswith(OTHER_IMAGES):
            names |= set(env_of(service))
    names |= set(re.findall(r"\{\$([A-Z][A-Z0-9_]*)", CADDYFILE.read_text(encoding="utf-8")))
    return names | set(env_example())


def test_every_variable_named_is_documented() -> None:
    """Every variable compose.yaml, deploy/Caddyfile or .env.example names is a journeybot setting in
    README's Configuration table, or one compose.yaml only interpolates, in Deployment's table."""
    names = names_in_compose_and_env()
    assert {"JOURNEYBOT_AUTO_MIGRATE", "POSTGRES_PASSWORD", "TELEGRAM_WEBHOOK_SECRET"} <= names
    settings, compose_only = documented()
    missing = sorted(names - settings - compose_only)
    assert not missing, f"not in README's Configuration table: {missing}"
    given = {k for s in compose(with_slack=True)["services"].values() if ours(s) for k in env_of(s)}
    assert not compose_only & given, "a variable journeybot reads belongs in the Configuration table"
    assert compose_only <= names, f"documented for compose.yaml but not used: {sorted(compose_only - names)}"


def test_env_example_names_everything_compose_asks_for_and_holds_no_secret() -> None:
    example = env_example()
    raw = COMPOSE.read_text(encoding="utf-8")
    asked = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", raw))
    assert asked <= set(example), f"compose.yaml interpolates names .env.example lacks: {sorted(asked - set(example))}"
    for name in SECRETS & set(example):
        assert example[name] == "", f"{name} has a value in .env.example"
    for service in compose(with_slack=True)["services"].values():
        if ours(service):
            assert service.get("env_file") == ".env"
            inline = {k for k, v in env_of(service).items() if k in SECRETS and "${" not in v}
            assert not inline, f"secrets written into compose.yaml: {inline}"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored, ".env must never enter the image's build context"


# -- Dockerfile ----------------------------------------------------------------------------------
def test_the_dockerfile_installs_the_project_and_runs_the_console_script_unprivileged() -> None:
    steps = dockerfile()
    stages = [args for word, args in steps if word == "FROM"]
    assert stages and all(s.split()[0] == "python:3.11-slim" for s in stages), stages
    final = steps[max(i for i, (word, _) in enumerate(steps) if word == "FROM") :]
    users = [args for word, args in final if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    assert [w for w, _ in final].index("USER") < [w for w, _ in final].index("ENTRYPOINT")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    scripts = project["project"]["scripts"]
    assert scripts.get("journeybot") == "handlers.cli:main"
    entrypoint = [args for word, args in final if word == "ENTRYPOINT"]
    assert entrypoint == ['["journeybot"]'], entrypoint
    cmd = [args for word, args in final if word == "CMD"]
    assert cmd == ['["telegram"]'] and runs(["telegram"]) == "telegram"
    installs = [args for word, args in steps if word == "RUN" and "pip install" in args]
    assert any(re.search(r"pip install( --?[\w-]+(?: [^\s-][^\s]*)?)* \.(\s|$)", args) for args in installs), installs
    exposed = {p for word, args in final if word == "EXPOSE" for p in args.split()}
    assert "8443" in exposed, exposed  # TELEGRAM_WEBHOOK_PORT in compose.yaml, and the default
    assert "HEALTHCHECK" in DOCKERFILE.read_text(encoding="utf-8"), "leave the place for a HEALTHCHECK"


def test_the_dockerfile_copies_every_package_and_the_build_context_keeps_them() -> None:
    steps = dockerfile()
    copied: set[str] = set()
    for word, args in steps:
        if word == "COPY" and "--from=" not in args:
            *sources, _ = shlex.split(args)
            copied |= {s.rstrip("/") for s in sources}
    for source in copied:
        assert (ROOT / source).exists(), f"COPY {source}: no such file"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages <= copied, f"packages pip would miss: {sorted(packages - copied)}"
    assert {"pyproject.toml", project["project"]["readme"]} <= copied
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")}
    assert not copied & ignored, f".dockerignore leaves out what the Dockerfile copies: {sorted(copied & ignored)}"

"""The production stack: docker-compose.yml and the Dockerfile run every service the
portal needs, check each one's health, keep data in named volumes, and run only
commands that exist in this project (management commands, Celery subcommands and
options, the WSGI application, the health URL).

The checks read the files with PyYAML and need neither Docker nor a network, so they
run everywhere, CI included. Where the `docker compose` CLI is installed, Compose also
validates the file itself; elsewhere that one sub-check prints why it did not run.
"""

import contextlib
import importlib
import importlib.metadata
import importlib.util
import io
import json
import re
import shlex
import shutil
import subprocess
import tomllib
import warnings
from unittest import mock
from urllib.parse import urlsplit

import click
import pytest
import yaml
from django.db import OperationalError
from django.urls import Resolver404, resolve

from .conftest import ROOT

COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"

LONG_RUNNING = ("db", "redis", "web", "worker", "beat")
ONE_SHOT = ("migrate",)

# What the base image itself provides (python:3.11-slim-bookworm: Python, pip and
# Debian's shells). Update this table when the Dockerfile's FROM changes.
BASE_IMAGE = "python:3.11-slim-bookworm"
BASE_IMAGE_EXECUTABLES = {"python", "python3", "pip", "sh", "bash"}
# Debian packages whose programs the stack runs, by package.
APT_PACKAGE_EXECUTABLES = {"curl": {"curl"}}
# Programs the services built from official images run, by image name.
OFFICIAL_IMAGE_EXECUTABLES = {"postgres": {"pg_isready", "psql", "sh"}, "redis": {"redis-cli", "sh"}}
# Set by Docker in every container, so a health check's shell may use them.
DOCKER_VARIABLES = {"HOSTNAME", "HOME", "PATH"}
# WeasyPrint's runtime libraries on Debian (its "First steps" install list), and the
# fonts the zh-Hant reports need.
WEASYPRINT_PACKAGES = {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-noto-cjk"}


# ---------------------------------------------------------------- reading the files


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


_COMPOSE_VARIABLE = re.compile(r"\$(?:(\$)|\{(\w+)(?:(:?[-?+])([^}]*))?\}|(\w+))")


def interpolate(value, variables: dict, missing: set):
    """Compose's own variable substitution (`$$`, `${NAME}`, `${NAME:-default}`,
    `${NAME:?error}`), so the checks see what Compose would run."""
    if isinstance(value, dict):
        return {key: interpolate(item, variables, missing) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables, missing) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match):
        escaped, name, operator, argument, bare = match.groups()
        if escaped:
            return "$"
        name = name or bare
        current = variables.get(name)
        if operator in ("-", ":-"):
            return current if current or (operator == "-" and current is not None) else argument
        if operator in ("+", ":+"):
            return argument if (current if operator == ":+" else current is not None) else ""
        if operator in ("?", ":?") and not current:
            missing.add(f"{name} ({argument})")
        return current or ""

    return _COMPOSE_VARIABLE.sub(substitute, value)


@pytest.fixture(scope="module")
def raw_compose() -> dict:
    with COMPOSE_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def compose(raw_compose) -> dict:
    """The file as Compose would run it with the values of .env.example."""
    missing = set()
    resolved = interpolate(raw_compose, env_example(), missing)
    assert not missing, f"docker-compose.yml requires variables that .env.example does not set: {sorted(missing)}"
    return resolved


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def dockerfile_cmd() -> list[str]:
    cmds = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "CMD"]
    assert cmds, "the Dockerfile has no CMD"
    return json.loads(cmds[-1])


def dockerfile_owned_directories() -> set[str]:
    """Directories a RUN line both creates (mkdir) and hands over (chown)."""
    made, handed = set(), set()
    for keyword, arguments in dockerfile_instructions():
        if keyword == "RUN":
            for step in re.split(r"&&|;", arguments):
                words = step.split()
                paths = {word for word in words[1:] if word.startswith("/")}
                if words[:1] == ["mkdir"]:
                    made |= paths
                elif words[:1] == ["chown"]:
                    handed |= paths
    return made & handed


def apt_packages() -> set[str]:
    packages = set()
    for keyword, arguments in dockerfile_instructions():
        if keyword == "RUN":
            for match in re.finditer(r"apt-get install ([^&;|]*)", arguments):
                packages |= {word for word in match.group(1).split() if not word.startswith("-")}
    return packages


def image_executables() -> set[str]:
    """Programs the portal's image provides: the base image's, the Debian packages the
    Dockerfile installs, and the console scripts of the project's dependencies (which
    the Dockerfile installs with `uv sync`)."""
    instructions = dockerfile_instructions()
    base = next(arguments for keyword, arguments in instructions if keyword == "FROM")
    assert base == BASE_IMAGE, f"the Dockerfile now starts FROM {base}: update BASE_IMAGE_EXECUTABLES in this test"
    executables = set(BASE_IMAGE_EXECUTABLES)
    for package in apt_packages():
        executables |= APT_PACKAGE_EXECUTABLES.get(package, set())
    if any(keyword == "RUN" and "uv sync" in arguments for keyword, arguments in instructions):
        dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
        for requirement in dependencies:
            name = re.match(r"[A-Za-z0-9_.-]+", requirement).group()
            entry_points = importlib.metadata.distribution(name).entry_points
            executables |= {entry.name for entry in entry_points if entry.group == "console_scripts"}
    return executables


def built_from_project(service: dict) -> bool:
    return "build" in service


def service_commands(service: dict) -> list[tuple[str, list[str] | str]]:
    """(what, command) pairs: a list is an argument vector, a string a shell script."""
    commands = []
    command = service.get("command")
    if command is None and built_from_project(service):
        commands.append(("command (the Dockerfile's CMD)", dockerfile_cmd()))
    elif command is not None:
        # Compose splits a string command into words itself, without a shell.
        commands.append(("command", shlex.split(command) if isinstance(command, str) else command))
    test = (service.get("healthcheck") or {}).get("test")
    if isinstance(test, str):
        commands.append(("healthcheck", test))
    elif test and test[0] == "CMD":
        commands.append(("healthcheck", test[1:]))
    elif test and test[0] == "CMD-SHELL":
        commands.append(("healthcheck", test[1]))
    return commands


def named_mounts(compose: dict, service: dict) -> dict[str, str]:
    """Mount target -> named volume."""
    mounts = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            source, target = volume.get("source"), volume.get("target")
            if volume.get("type", "volume") != "volume":
                continue
        else:
            source, target, *_ = volume.split(":") + [""]
        if source in (compose.get("volumes") or {}):
            mounts[target] = source
    return mounts


# ---------------------------------------------------------------- checking one command


def split_shell(script: str) -> list[list[str]]:
    """The simple commands of a shell script (`a && b; c | d`), redirections dropped."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands, current, tokens = [], [], iter(lexer)
    for token in tokens:
        if token in ("&&", "||", ";", "|", "&"):
            commands.append(current)
            current = []
        elif token in (">", ">>", "<", "2>"):
            next(tokens, None)
        else:
            current.append(token)
    commands.append(current)
    return [command for command in commands if command]


def shell_variables(script: str) -> set[str]:
    return set(re.findall(r"\$\{?(\w+)", script))


def check_manage_py(arguments: list[str]) -> list[str]:
    from django.core.management import CommandError, get_commands, load_command_class

    if not arguments:
        return ["`manage.py` without a command"]
    name, *options = arguments
    commands = get_commands()
    if name not in commands:
        return [f"there is no management command `{name}`"]
    parser = load_command_class(commands[name], name).create_parser("manage.py", name)
    try:
        parser.parse_args(options)
    except CommandError as error:
        return [f"`manage.py {name}` refuses its arguments: {error}"]
    return []


def check_python(argv: list[str]) -> list[str]:
    if len(argv) < 2:
        return []
    if argv[1] == "manage.py":
        return check_manage_py(argv[2:])
    if argv[1] == "-m":
        return [] if importlib.util.find_spec(argv[2]) else [f"there is no module `{argv[2]}`"]
    if argv[1] == "-c":
        return []
    return [] if (ROOT / argv[1]).is_file() else [f"there is no script `{argv[1]}` in the project"]


def parse_celery(argv: list[str]) -> tuple[str, click.Context]:
    """The subcommand's name and its parsed context; raises click.ClickException."""
    from celery.app.utils import find_app
    from celery.bin.base import CLIContext
    from celery.bin.celery import celery as celery_cli

    top = celery_cli.make_context("celery", list(argv[1:]))
    with warnings.catch_warnings():
        # Click 8.2 moves the subcommand from protected_args into args; read both.
        warnings.simplefilter("ignore", DeprecationWarning)
        rest = [*getattr(top, "protected_args", []), *top.args]
    if not top.params.get("app"):
        raise click.UsageError("no `-A` application")
    app = find_app(top.params["app"])
    if not rest or rest[0] not in celery_cli.commands:
        raise click.UsageError(f"`{rest[0] if rest else ''}` is not a Celery subcommand")
    name, *options = rest
    parent = click.Context(celery_cli, info_name="celery", obj=CLIContext(app=app, no_color=True, workdir=None))
    return name, celery_cli.commands[name].make_context(name, options, parent=parent)


def check_celery(argv: list[str]) -> list[str]:
    from celery.worker.control import Panel

    try:
        name, context = parse_celery(argv)
    except click.ClickException as error:
        return [f"celery refuses it: {error.format_message()}"]
    except Exception as error:  # the app itself does not import
        return [f"the Celery app does not load: {error!r}"]
    if name in ("inspect", "control"):
        command = context.params["command"]
        if command not in Panel.meta or Panel.meta[command].type != name:
            return [f"`{command}` is not a `celery {name}` command"]
    return []


def parse_gunicorn(argv: list[str]):
    from gunicorn.config import Config

    parser = Config(usage="%(prog)s [OPTIONS] [APP_MODULE]", prog="gunicorn").parser()
    return parser.parse_args(argv[1:])


def check_gunicorn(argv: list[str]) -> list[str]:
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            options = parse_gunicorn(argv)
    except SystemExit:
        return [f"gunicorn refuses it: {stderr.getvalue().strip().splitlines()[-1]}"]
    if len(options.args) != 1:
        return [f"gunicorn needs exactly one application, got {options.args}"]
    module_name, _, attribute = options.args[0].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        return [f"the WSGI module `{module_name}` does not import: {error}"]
    if not hasattr(module, attribute or "application"):
        return [f"`{module_name}` has no `{attribute}`"]
    return []


def check_curl(argv: list[str]) -> list[str]:
    urls = [word for word in argv if word.startswith(("http://", "https://"))]
    if not urls:
        return ["curl is given no URL"]
    problems = []
    for url in urls:
        path = urlsplit(url).path or "/"
        try:
            resolve(path)
        except Resolver404:
            problems.append(f"the URL {url} does not resolve: no view for {path}")
    return problems


def check_argv(argv: list[str], executables: set[str]) -> list[str]:
    program = argv[0].rsplit("/", 1)[-1]
    if program not in executables:
        return [f"`{program}` is not installed in the image"]
    if program in ("sh", "bash") and len(argv) >= 3 and argv[1] == "-c":
        return check_script(argv[2], executables)
    checker = {
        "python": check_python,
        "python3": check_python,
        "celery": check_celery,
        "gunicorn": check_gunicorn,
        "curl": check_curl,
    }.get(program)
    return checker(argv) if checker else []


def check_script(script: str, executables: set[str]) -> list[str]:
    problems = []
    for argv in split_shell(script):
        problems += check_argv(argv, executables)
    return problems


def check_command(command: list[str] | str, executables: set[str]) -> list[str]:
    if isinstance(command, str):
        return check_script(command, executables)
    return check_argv(command, executables)


def show(command: list[str] | str) -> str:
    return command if isinstance(command, str) else shlex.join(command)


def option_value(argv: list[str], *names: str) -> str | None:
    for index, word in enumerate(argv):
        if word in names and index + 1 < len(argv):
            return argv[index + 1]
        for name in names:
            if name.startswith("--") and word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None


def argv_of(service_name: str, service: dict, program: str, what: str = "command") -> list[str]:
    """The first simple command running `program` in a service's command or health check."""
    for label, command in service_commands(service):
        if label.startswith(what):
            argvs = split_shell(command) if isinstance(command, str) else [command]
            for argv in argvs:
                if argv[0] in ("sh", "bash") and argv[1:2] == ["-c"]:
                    argvs += split_shell(argv[2])
                elif argv[0] == program:
                    return argv
    raise AssertionError(f"service '{service_name}': no `{program}` in its {what}")


# ---------------------------------------------------------------- the tests


def test_compose_file_parses_and_docker_compose_accepts_it(raw_compose, tmp_path):
    assert isinstance(raw_compose, dict) and isinstance(raw_compose.get("services"), dict), (
        "docker-compose.yml has no services mapping"
    )

    # Compose's own validation, where its CLI is installed; a checkout without Docker
    # still runs every other check in this file.
    reason = None
    if not shutil.which("docker"):
        reason = "the docker CLI is not installed"
    else:
        version = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=60)
        if version.returncode != 0:
            reason = f"`docker compose` is not available ({(version.stderr or version.stdout).strip().splitlines()[0]})"
    if reason:
        message = f"docker compose config did not run: {reason}; the PyYAML checks ran instead."
        print(message)
        warnings.warn(message, stacklevel=1)
        return
    # A copy beside a .env made from .env.example: the stack's env_file must exist.
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env")
    shutil.copy(DOCKERFILE, tmp_path / "Dockerfile")
    result = subprocess.run(
        ["docker", "compose", "--project-directory", str(tmp_path), "-f", str(tmp_path / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"docker compose config rejects docker-compose.yml:\n{result.stderr}"


def test_every_service_of_the_stack_is_there(compose):
    missing = set(LONG_RUNNING + ONE_SHOT) - set(compose["services"])
    assert not missing, f"docker-compose.yml lacks the services {sorted(missing)}"


def test_long_running_services_restart_and_check_their_health(compose):
    problems = []
    for name in LONG_RUNNING:
        service = compose["services"][name]
        healthcheck = service.get("healthcheck") or {}
        if not healthcheck.get("test") or healthcheck["test"] == ["NONE"] or healthcheck.get("disable"):
            problems.append(f"service '{name}' has no health check")
        if service.get("restart") not in ("always", "unless-stopped", "on-failure"):
            problems.append(f"service '{name}' is not restarted (restart: {service.get('restart')})")
    for name in ONE_SHOT:
        if compose["services"][name].get("restart") != "no":
            problems.append(f"one-shot service '{name}' must have restart: \"no\", or it would run again and again")
    for name in ("web", "worker", "beat"):
        condition = (compose["services"][name].get("depends_on") or {}).get("migrate", {}).get("condition")
        if condition != "service_completed_successfully":
            problems.append(f"service '{name}' must wait for 'migrate' to complete (depends_on condition {condition})")
    assert not problems, "\n".join(problems)


def test_every_command_exists_in_the_project(compose):
    executables = image_executables()
    problems = []
    for name, service in compose["services"].items():
        if built_from_project(service):
            available = executables
        else:
            image = service.get("image", "").split(":")[0]
            available = OFFICIAL_IMAGE_EXECUTABLES.get(image, set())
        known_variables = set(service.get("environment") or {}) | DOCKER_VARIABLES
        if service.get("env_file"):
            known_variables |= set(env_example())
        for what, command in service_commands(service):
            for problem in check_command(command, available):
                problems.append(f"service '{name}', {what} `{show(command)}`: {problem}")
            if isinstance(command, str):
                for variable in sorted(shell_variables(command) - known_variables):
                    problems.append(f"service '{name}', {what} `{command}`: ${variable} is not set in the container")
    for problem in check_command(dockerfile_cmd(), executables):
        problems.append(f"Dockerfile CMD `{show(dockerfile_cmd())}`: {problem}")
    assert not problems, "\n".join(problems)


def test_data_lives_in_named_volumes_where_the_settings_expect_it(compose):
    services = compose["services"]
    problems = []
    if "/var/lib/postgresql/data" not in named_mounts(compose, services["db"]):
        problems.append("service 'db': no named volume at /var/lib/postgresql/data (the database would die with its container)")

    # The worker writes reports under MEDIA_ROOT and the web process serves them.
    media_volumes = set()
    for name in ("web", "worker"):
        media_root = (services[name].get("environment") or {}).get("MEDIA_ROOT")
        volume = named_mounts(compose, services[name]).get(media_root)
        if not media_root or not volume:
            problems.append(f"service '{name}': MEDIA_ROOT ({media_root}) is not a named volume")
        media_volumes.add((media_root, volume))
    if len(media_volumes) != 1:
        problems.append(f"web and worker must share one MEDIA_ROOT volume, got {sorted(media_volumes, key=str)}")

    schedule = parse_celery(argv_of("beat", services["beat"], "celery"))[1].params["schedule"]
    if schedule.rsplit("/", 1)[0] not in named_mounts(compose, services["beat"]):
        problems.append(f"service 'beat': the schedule file {schedule} is not in a named volume")

    # Docker gives a new named volume the owner of its mount point in the image; the
    # app runs unprivileged, so each mount point must be created and handed to it there.
    owned = dockerfile_owned_directories()
    for name, service in services.items():
        if built_from_project(service):
            for target in named_mounts(compose, service):
                if target not in owned:
                    problems.append(f"service '{name}': the Dockerfile does not create {target} for the app's user")
    assert not problems, "\n".join(problems)


def test_celery_health_checks_ping_their_own_node(compose):
    problems = []
    for name in ("worker", "beat"):
        service = compose["services"][name]
        argv = argv_of(name, service, "celery")
        subcommand, started = parse_celery(argv)
        check_name, check = parse_celery(argv_of(name, service, "celery", what="healthcheck"))
        # Read from the words: the worker's option parser already expands %h.
        node = (option_value(argv, "-n", "--hostname") or "").replace("%h", "$HOSTNAME")
        if check_name != "inspect" or check.params["command"] != "ping" or check.params["destination"] != [node]:
            problems.append(f"service '{name}': its health check must `inspect ping --destination {node or '<--hostname>'}`")
        if subcommand == "beat" and not started.params.get("remote_control"):
            problems.append("service 'beat': without --enable-remote-control beat never answers `inspect ping`")
    worker = parse_celery(argv_of("worker", compose["services"]["worker"], "celery"))[1].params
    if not (worker.get("max_tasks_per_child") or worker.get("max_memory_per_child")):
        problems.append("service 'worker': recycle children (--max-tasks-per-child) to bound WeasyPrint's memory")
    assert not problems, "\n".join(problems)


def test_web_serves_on_the_port_its_health_check_and_the_host_use(compose):
    web = compose["services"]["web"]
    options = parse_gunicorn(argv_of("web", web, "gunicorn"))
    port = options.bind[0].rsplit(":", 1)[1]
    health_url = next(word for word in argv_of("web", web, "curl", what="healthcheck") if word.startswith("http"))
    published = {str(mapping).rsplit(":", 1)[-1] for mapping in web.get("ports", [])}
    assert str(urlsplit(health_url).port) == port, f"web: gunicorn binds {port}, the health check calls {health_url}"
    assert port in published, f"web: gunicorn binds {port}, the published ports are {sorted(published)}"
    # Sync workers hold a download for its whole transfer; 30 s (the default) cuts large reports.
    assert (options.timeout or 30) >= 60, f"web: gunicorn --timeout {options.timeout} is too short for downloads"


def test_image_installs_what_weasyprint_needs():
    missing = WEASYPRINT_PACKAGES - apt_packages()
    assert not missing, f"the Dockerfile does not install {sorted(missing)} (WeasyPrint's libraries and the CJK fonts)"


# ---------------------------------------------------------------- the health endpoint


def test_health_endpoint_answers_anonymous_callers(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


def test_health_endpoint_fails_when_the_database_does_not_answer(client, db):
    with mock.patch("anticorruption.health.connection") as connection:
        connection.cursor.side_effect = OperationalError("connection refused")
        response = client.get("/healthz")
    assert response.status_code == 503
    assert b"connection refused" not in response.content


def test_web_health_check_request_passes_production_host_and_https_checks(compose, client, db, settings):
    """The health check's exact request (Host and forwarded scheme from its own curl
    command, expanded by a real shell) gets 200, not a 400 or an HTTPS redirect."""
    argv = argv_of("web", compose["services"]["web"], "curl", what="healthcheck")
    allowed_hosts = env_example()["ALLOWED_HOSTS"]
    headers = {}
    for flag, value in zip(argv, argv[1:]):
        if flag in ("-H", "--header"):
            assert '"' not in value
            expanded = subprocess.run(
                ["sh", "-c", f'printf %s "{value}"'], env={"ALLOWED_HOSTS": allowed_hosts}, capture_output=True, text=True
            ).stdout
            header, _, header_value = expanded.partition(":")
            headers[header.strip().lower()] = header_value.strip()
    settings.ALLOWED_HOSTS = [host.strip() for host in allowed_hosts.split(",")]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    url = next(word for word in argv if word.startswith("http"))
    response = client.get(urlsplit(url).path, headers=headers)
    assert response.status_code == 200, f"web health check gets {response.status_code} with headers {headers}"

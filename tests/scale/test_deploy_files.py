"""The deployment files (deploy/) agree with the settings and with each other, and the tools
that read them accept them: nginx parses the rendered template, systemd the units, YAML the
compose file. Quick; they run in every pass of `make test`. Where nginx, openssl, envsubst
or systemd-analyze is missing the test that needs it skips with the reason; under CI
(CI=true) that is a failure (scripts/install-deploy-tools.sh installs them).
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess

import pytest
import yaml

from tests.scale.conftest import (
    RENDER,
    ROOT,
    TEMPLATE,
    _nginx_main_conf,
    _self_signed,
    nginx_binary,
    stack_unavailable,
)

DEPLOY = ROOT / "deploy"
ENV_EXAMPLE = DEPLOY / "env.example"
UNITS = DEPLOY / "systemd"
PLACEHOLDER = re.compile(r"\$\{(HUXIAO_NGINX_[A-Z0-9_]+)\}")


def _env_example() -> tuple[dict[str, str], set[str]]:
    """(variables set, variables named — set or shown commented out with their default)."""
    values, named = {}, set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^(#?)([A-Z][A-Z0-9_]*)=(.*)$", line)
        if not match:
            continue
        named.add(match.group(2))
        if not match.group(1):
            values[match.group(2)] = match.group(3).strip().strip('"')
    return values, named


def _settings_variables() -> set[str]:
    source = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r"env_(?:str|int|bool|list)\(\s*\"([A-Z][A-Z0-9_]*)\"", source))


def test_env_example_names_every_variable_the_settings_read():
    _, named = _env_example()
    found = _settings_variables()
    assert {"HUXIAO_SECRET_KEY", "DATABASE_URL", "HUXIAO_WS_URL"} <= found  # the parse works
    assert found - named == set(), "add these to deploy/env.example"


def test_env_example_holds_no_secret():
    values, _ = _env_example()
    for name in ("HUXIAO_SECRET_KEY", "HUXIAO_DATA_KEY", "HUXIAO_HASH_KEY"):
        assert values.get(name) == "", name
    assert values["HUXIAO_ENV"] == "production"
    assert "CHANGE-ME" in values["DATABASE_URL"]
    assert values["HUXIAO_WS_URL"] == "/ws/"


def test_env_example_fills_every_nginx_placeholder():
    values, _ = _env_example()
    placeholders = set(PLACEHOLDER.findall(TEMPLATE.read_text()))
    assert len(placeholders) >= 10
    assert {p for p in placeholders if not values.get(p)} == set()


def _tools(*names: str) -> None:
    for name in names:
        if not shutil.which(name):
            stack_unavailable(f"{name} is missing: run scripts/install-deploy-tools.sh")


def test_render_refuses_an_unset_placeholder(tmp_path):
    _tools("envsubst")
    values, _ = _env_example()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUXIAO_NGINX_")}
    env.update({k: v for k, v in values.items() if k.startswith("HUXIAO_NGINX_")})
    del env["HUXIAO_NGINX_TLS_KEY"]
    done = subprocess.run(
        ["bash", str(RENDER)], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode != 0
    assert "HUXIAO_NGINX_TLS_KEY" in done.stderr
    assert done.stdout == ""


def test_nginx_accepts_the_rendered_template(tmp_path):
    _tools("envsubst", "openssl")
    nginx = nginx_binary()
    if not nginx:
        stack_unavailable("nginx is missing: run scripts/install-deploy-tools.sh")
    values, _ = _env_example()
    cert, key = _self_signed(tmp_path)
    (tmp_path / "logs").mkdir()
    (tmp_path / "temp").mkdir()
    variables = {k: v for k, v in values.items() if k.startswith("HUXIAO_NGINX_")}
    # The example's values, but files that exist here.
    variables.update(
        {
            "HUXIAO_NGINX_TLS_CERT": str(cert),
            "HUXIAO_NGINX_TLS_KEY": str(key),
            "HUXIAO_NGINX_STATIC_ROOT": str(tmp_path / "static"),
            "HUXIAO_NGINX_LOG_DIR": str(tmp_path / "logs"),
        }
    )
    done = subprocess.run(
        ["bash", str(RENDER)],
        env={**os.environ, **variables},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    rendered = done.stdout
    assert "${" not in rendered  # every placeholder filled …
    assert "$host" in rendered and "$request_uri" in rendered  # … and nginx's own kept
    assert "server 127.0.0.1:8101; server 127.0.0.1:8102;" in rendered
    site = tmp_path / "huxiao.conf"
    site.write_text(rendered)
    main = tmp_path / "nginx.conf"
    main.write_text(_nginx_main_conf(tmp_path, site))
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "logs" / "e.log"), "-c", str(main)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(UNITS / name)
    return parser


SERVICES = {
    "huxiao-wsgi@.service": "--interface wsgi --host 127.0.0.1 --port %i",
    "huxiao-asgi@.service": "--interface asginl --host 127.0.0.1 --port %i",
    "huxiao-worker.service": "manage.py run_huey",
    "huxiao-mqtt-bridge.service": "manage.py mqtt_bridge",
}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_units_run_hardened_as_their_own_user(name):
    unit = _unit(name)
    service = unit["Service"]
    assert SERVICES[name] in service["ExecStart"]
    assert service["User"] == service["Group"] == "huxiao"
    assert service["EnvironmentFile"] == "/etc/huxiao/huxiao.env"
    assert service["WorkingDirectory"] == "/srv/huxiao/current"
    assert service["Restart"] == "always"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/huxiao"
    assert service["PrivateTmp"] == "yes"
    assert service["CapabilityBoundingSet"] == ""
    assert unit["Unit"]["PartOf"] == "huxiao.target"
    assert unit["Install"]["WantedBy"] == "huxiao.target"


def test_the_target_starts_the_pools_nginx_expects():
    wants = " ".join(
        line.split("=", 1)[1]
        for line in (UNITS / "huxiao.target").read_text().splitlines()
        if line.startswith("Wants=")
    ).split()
    assert sorted(wants) == [
        "huxiao-asgi@8201.service",
        "huxiao-asgi@8202.service",
        "huxiao-worker.service",
        "huxiao-wsgi@8101.service",
        "huxiao-wsgi@8102.service",
    ]
    values, _ = _env_example()
    ports = {
        "wsgi": re.findall(r"127\.0\.0\.1:(\d+)", values["HUXIAO_NGINX_WSGI_SERVERS"]),
        "asgi": re.findall(r"127\.0\.0\.1:(\d+)", values["HUXIAO_NGINX_ASGI_SERVERS"]),
    }
    for kind, found in ports.items():
        assert sorted(f"huxiao-{kind}@{p}.service" for p in found) == sorted(
            w for w in wants if w.startswith(f"huxiao-{kind}@")
        )


def test_systemd_accepts_the_units(tmp_path):
    if not shutil.which("systemd-analyze"):
        stack_unavailable("systemd-analyze is missing (Debian package systemd)")
    # Instances of the templates, as systemd would load them.
    names = []
    for path in UNITS.iterdir():
        name = path.name.replace("@.service", "@8101.service")
        shutil.copy(path, tmp_path / name)
        names.append(str(tmp_path / name))
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *names],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SYSTEMD_LOG_COLOR": "0"},
    )
    # Only the release's own programs are missing on this machine (/srv/huxiao/current).
    complaints = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and "/srv/huxiao/current/.venv/bin/" not in line
    ]
    assert complaints == []


def test_compose_file_describes_the_same_layout():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {
        "postgres",
        "redis",
        "release",
        "wsgi1",
        "wsgi2",
        "asgi1",
        "asgi2",
        "worker",
        "bridge",
        "nginx",
    }
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    app = ["release", "wsgi1", "wsgi2", "asgi1", "asgi2", "worker", "bridge"]
    for name in app:
        assert services[name]["image"] == "huxiao:latest"
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY / services[name]["build"]["context"] / "deploy" / "Dockerfile").exists()
        assert services[name]["env_file"] == ["huxiao.env"]
        assert services[name]["environment"]["REDIS_URL"].startswith("redis://redis:")
    for name in ("wsgi1", "wsgi2"):
        assert services[name]["command"][:3] == ["granian", "--interface", "wsgi"]
    for name in ("asgi1", "asgi2"):
        assert services[name]["command"][:3] == ["granian", "--interface", "asginl"]
    assert services["worker"]["command"] == ["python", "manage.py", "run_huey"]
    nginx = services["nginx"]
    # The same template as the Debian install, every placeholder given.
    assert "./nginx/huxiao.conf:/etc/nginx/templates/huxiao.conf.template:ro" in nginx["volumes"]
    placeholders = set(PLACEHOLDER.findall(TEMPLATE.read_text()))
    assert placeholders <= set(nginx["environment"])
    # The address the servers trust X-Forwarded-For from is nginx's.
    trusted = services["wsgi1"]["environment"]["HUXIAO_TRUSTED_PROXIES"]
    assert nginx["networks"]["huxiao"]["ipv4_address"] == trusted
    for mount in nginx["volumes"]:
        source = mount.split(":")[0]
        if source.startswith("./") and source != "./tls":
            assert (DEPLOY / source).exists(), source

    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert "RUN pip install . -c requirements/constraints.txt" in dockerfile  # the CI pins
    assert "manage.py collectstatic --noinput" in dockerfile


def test_install_script_is_valid_shell():
    script = ROOT / "scripts" / "install-deploy-tools.sh"
    assert os.access(script, os.X_OK)
    assert subprocess.run(["bash", "-n", str(script)], timeout=30).returncode == 0
    assert os.access(RENDER, os.X_OK)

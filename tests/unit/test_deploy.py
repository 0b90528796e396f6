"""deploy/k8s, docker-compose.yml and the Dockerfile, checked without a cluster or a Docker engine.

Both kustomize overlays are rendered (scripts/render_k8s.py, the subset of kustomize the manifests use) and
every object is validated against the Kubernetes schemas of a pinned version (``kubernetes-validate``,
strict: an unknown field fails). Then the manifests and the compose file are held to the code: the same
components and commands, the ports the settings default to, health probes on the standard gRPC health
service (readiness on each service's own proto name) and on HTTP paths the route tables serve, and only
environment variables that the settings classes read (a setting renamed in code and not here fails).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from compat_gateway.routes import ROUTES as SHIM_ROUTES
from gaia_services.asset.service import spec as asset_spec
from gaia_services.asset.settings import AssetSettings
from gaia_services.auth.config import AuthSettings
from gaia_services.auth.service import spec as auth_spec
from gaia_services.chat.llm_config import LLMSettings
from gaia_services.chat.service import spec as chat_spec
from gaia_services.runtime.server import ServiceSpec
from gaia_services.settings import Settings
from web.app import ROUTES as WEB_ROUTES

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
#: The oldest Kubernetes the manifests promise to work on (gRPC probes GA since 1.27, matchLabelKeys 1.27).
KUBERNETES_VERSION = "1.33.0"
OVERLAYS = ("dev", "prod")
GRPC: dict[str, ServiceSpec[Any]] = {"auth": auth_spec(), "chat": chat_spec(), "asset": asset_spec()}
HTTP = {"shim": "http_port", "web": "web_port"}
COMPONENTS = (*GRPC, *HTTP)
SETTINGS_CLASSES: tuple[type[BaseSettings], ...] = (Settings, AuthSettings, AssetSettings, LLMSettings)
#: Read by Python itself, not by a settings class.
INTERPRETER_VARIABLES = {"PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PATH"}
#: What each process cannot start without (Settings.require, and the production check of the JWT secret).
REQUIRED = {
    "auth": {"DATABASE_URL", "REDIS_URL", "NATS_URL", "GAIA_JWT_SECRET"},
    "chat": {"DATABASE_URL", "REDIS_URL", "NATS_URL", "GAIA_JWT_SECRET", "GAIA_AUTH_ADDR"},
    "asset": {"DATABASE_URL", "REDIS_URL", "NATS_URL", "GAIA_JWT_SECRET", "GAIA_AUTH_ADDR"},
    "shim": {"REDIS_URL", "GAIA_JWT_SECRET", "GAIA_AUTH_ADDR", "GAIA_CHAT_ADDR", "GAIA_ASSET_ADDR"},
    "web": {"GAIA_SHIM_URL", "GAIA_JWT_SECRET", "GAIA_WEB_SESSION_SECRET"},
    "migrate": {"DATABASE_URL", "GAIA_JWT_SECRET"},
}


def _renderer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_k8s", ROOT / "scripts" / "render_k8s.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["render_k8s"] = module
    spec.loader.exec_module(module)
    return module


RENDER = _renderer()


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, RENDER.render(K8S / "overlays" / request.param)


def _one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]


def _generated(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [
        o
        for o in objects
        if o["kind"] == kind and re.fullmatch(rf"{name}(-[0-9a-f]{{10}})?", o["metadata"]["name"])
    ]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]


def _container(objects: list[dict[str, Any]], component: str) -> dict[str, Any]:
    kind = "Job" if component == "migrate" else "Deployment"
    pod = _one(objects, kind, f"gaia-{component}")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    return dict(container)


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def _settings_variables() -> set[str]:
    """Every environment variable some settings class reads."""
    names: set[str] = set()
    for cls in SETTINGS_CLASSES:
        prefix = str(cls.model_config.get("env_prefix", ""))
        for name, info in cls.model_fields.items():
            alias = info.validation_alias
            if isinstance(alias, AliasChoices):
                names.update(str(choice).upper() for choice in alias.choices)
            elif isinstance(alias, str):
                names.add(alias.upper())
            else:
                names.add(f"{prefix}{name}".upper())
    return names


KNOWN = _settings_variables()


def _k8s_environment(objects: list[dict[str, Any]], component: str) -> set[str]:
    """The variables one component's container gets: its ConfigMaps and Secrets (envFrom) and its env."""
    container = _container(objects, component)
    names = {entry["name"] for entry in container.get("env", ())}
    for source in container.get("envFrom", ()):
        ref = source.get("configMapRef") or source.get("secretRef")
        kind = "ConfigMap" if "configMapRef" in source else "Secret"
        names |= set(_one(objects, kind, ref["name"]).get("data", {}))
    return names


def _compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return dict(document["services"])


COMPOSE_INFRA = {"postgres", "redis", "nats"}


# -- rendering and schemas -----------------------------------------------------------------------------------


def test_every_object_of_both_overlays_validates_against_the_kubernetes_schemas(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    overlay, objects = rendered
    assert len({(o["kind"], o["metadata"]["name"]) for o in objects}) == len(objects)
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    namespaced = [o for o in objects if o["kind"] != "Namespace"]
    assert {o["metadata"]["namespace"] for o in namespaced} == {"gaia-dev" if overlay == "dev" else "gaia"}


def test_the_validation_is_not_vacuous() -> None:
    """A misspelt field or a wrong type is refused (strict schemas), so the test above proves something."""
    deployment = _one(RENDER.render(K8S / "overlays" / "prod"), "Deployment", "gaia-chat")
    typo = copy.deepcopy(deployment)
    container = typo["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = {"grpc": {"port": 50052}}  # sic: one "s" short
    wrong = copy.deepcopy(deployment)
    wrong["spec"]["replicas"] = "two"
    for broken in (typo, wrong):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_renderer_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\nnamePrefix: x-\n")
    with pytest.raises(RENDER.KustomizeError, match="namePrefix"):
        RENDER.render(tmp_path)


def test_the_generated_config_is_hashed_and_every_reference_follows(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = rendered
    config = _generated(objects, "ConfigMap", "gaia-config")
    assert config["metadata"]["name"] != "gaia-config"  # a config change rolls the pods
    for component in (*COMPONENTS, "migrate"):
        refs = [s["configMapRef"]["name"] for s in _container(objects, component)["envFrom"]]
        assert refs == [config["metadata"]["name"]]


# -- the shape the issue asks for ----------------------------------------------------------------------------


def test_each_component_has_a_deployment_a_service_and_a_disruption_budget(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    overlay, objects = rendered
    for component in COMPONENTS:
        name = f"gaia-{component}"
        deployment, service = _one(objects, "Deployment", name), _one(objects, "Service", name)
        pdb = _one(objects, "PodDisruptionBudget", name)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        for selector in (deployment["spec"]["selector"]["matchLabels"], service["spec"]["selector"]):
            assert selector.items() <= labels.items()
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert pdb["spec"].get("maxUnavailable") == 1  # a drain never blocks, never takes a whole tier
        # gRPC Services are headless: clients resolve every pod and balance calls themselves.
        assert (service["spec"].get("clusterIP") == "None") is (component in GRPC)
        replicas = deployment["spec"]["replicas"]
        assert replicas == (1 if overlay == "dev" else 2)
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
        container = _container(objects, component)
        assert container["args"] == ["serve", component]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        for bound in ("requests", "limits"):
            assert set(container["resources"][bound]) == {"cpu", "memory"}, (component, bound)
        grace = int(Settings.model_fields["shutdown_grace_s"].default)
        config = _generated(objects, "ConfigMap", "gaia-config")["data"]
        grace = int(config.get("GAIA_SHUTDOWN_GRACE_S", grace))
        assert pod["terminationGracePeriodSeconds"] >= min(grace, 10)


def test_shim_and_chat_scale_on_cpu_and_the_migration_is_a_job(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    overlay, objects = rendered
    hpas = {o["metadata"]["name"]: o for o in objects if o["kind"] == "HorizontalPodAutoscaler"}
    assert set(hpas) == {"gaia-shim", "gaia-chat"}
    for name, hpa in hpas.items():
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        _one(objects, "Deployment", name)
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu" and metric["resource"]["target"]["type"] == "Utilization"
        assert hpa["spec"]["minReplicas"] == (1 if overlay == "dev" else 2)
    job = _one(objects, "Job", "gaia-migrate")
    assert _container(objects, "migrate")["args"] == ["migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"


def test_one_image_for_everything(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, objects = rendered
    images = {_container(objects, c)["image"] for c in (*COMPONENTS, "migrate")}
    assert len(images) == 1 and images.pop().split(":")[0].endswith("gaia-mesh")


# -- held to the code ----------------------------------------------------------------------------------------


def _grpc_probes(container: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        yield kind, container[kind]


def test_ports_and_probes_are_the_ones_the_code_serves(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, objects = rendered
    defaults = Settings()
    config = _generated(objects, "ConfigMap", "gaia-config")["data"]
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    for component, spec in GRPC.items():
        port = _port(spec.address(defaults))
        container = _container(objects, component)
        assert [p["containerPort"] for p in container["ports"]] == [port]
        own = next(e for e in container["env"] if e["name"] == f"GAIA_{component.upper()}_ADDR")
        assert own["value"] == f"0.0.0.0:{port}"  # what this pod binds
        for kind, probe in _grpc_probes(container):
            assert probe["grpc"]["port"] == port, (component, kind)
        assert container["readinessProbe"]["grpc"]["service"] == spec.service_names[0]
        assert "service" not in container["livenessProbe"]["grpc"]  # "": the process itself
        # Everyone else reaches it through its headless Service, resolving every pod.
        target = config[f"GAIA_{component.upper()}_ADDR"]
        match = re.fullmatch(r"dns:///([a-z0-9-]+):(\d+)", target)
        assert match, target
        service = services[match.group(1)]
        assert service["spec"]["clusterIP"] == "None"
        assert [p["port"] for p in service["spec"]["ports"]] == [int(match.group(2))] == [port]
    paths = {"shim": {r.path for r in SHIM_ROUTES}, "web": {p.path for p in WEB_ROUTES if p.public}}
    for component, setting in HTTP.items():
        port = int(getattr(defaults, setting))
        assert config[f"GAIA_{setting.upper()}"] == str(port)
        container = _container(objects, component)
        assert [p["containerPort"] for p in container["ports"]] == [port]
        assert [p["port"] for p in services[f"gaia-{component}"]["spec"]["ports"]] == [port]
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[kind]["httpGet"]["path"] in paths[component], (component, kind)
    assert config["GAIA_SHIM_URL"] == f"http://gaia-shim:{defaults.http_port}"


def test_every_variable_in_the_manifests_is_read_by_a_settings_class(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    overlay, objects = rendered
    for component in (*COMPONENTS, "migrate"):
        names = (
            _k8s_environment(objects, component)
            if overlay == "dev"
            else _prod_environment(objects, component)
        )
        assert names <= KNOWN, f"{component}: not read by any settings class: {sorted(names - KNOWN)}"
        assert REQUIRED[component] <= names, f"{component}: missing {sorted(REQUIRED[component] - names)}"
    if overlay == "dev":  # prod brings its own Secret: the one rendered here must hold every required key
        secret = _generated(objects, "Secret", "gaia-secrets")
        for component in (*COMPONENTS, "migrate"):
            for entry in _container(objects, component)["env"]:
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref and not ref.get("optional"):
                    assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["data"]


def _prod_environment(objects: list[dict[str, Any]], component: str) -> set[str]:
    """As in dev, but the Secret is not rendered in prod: its keys are the ones the containers name."""
    container = _container(objects, component)
    names = {entry["name"] for entry in container.get("env", ())}
    for source in container.get("envFrom", ()):
        assert "configMapRef" in source, "prod: Secrets only through secretKeyRef (their keys named)"
        names |= set(_one(objects, "ConfigMap", source["configMapRef"]["name"])["data"])
    for entry in container.get("env", ()):
        ref = entry.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            assert ref["name"] == "gaia-secrets" and ref["key"] == entry["name"]
    return names


def test_a_renamed_setting_would_fail_the_check() -> None:
    assert "GAIA_AUTH_RATE_LIMIT_PER_MINUTE" in KNOWN and "DATABASE_URL" in KNOWN
    assert "GAIA_AUTH_RATE_LIMIT_PER_MINUTES" not in KNOWN and "GAIA_DATABASE" not in KNOWN


# -- docker-compose.yml in step ------------------------------------------------------------------------------


def test_compose_runs_the_same_components_commands_ports_and_probes() -> None:
    services = _compose()
    objects = RENDER.render(K8S / "overlays" / "dev")
    assert set(services) - COMPOSE_INFRA == {*COMPONENTS, "migrate"}
    for component in (*COMPONENTS, "migrate"):
        assert services[component]["command"] == _container(objects, component)["args"], component
        assert services[component]["image"] == services["auth"]["image"]  # one image
    for component in GRPC:
        readiness = _container(objects, component)["readinessProbe"]["grpc"]
        test = services[component]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"] and "probe_grpc" in test[3]
        assert test[4:] == [f"127.0.0.1:{readiness['port']}", readiness["service"]]
    for component in HTTP:
        container = _container(objects, component)
        test = services[component]["healthcheck"]["test"]
        path, port = container["readinessProbe"]["httpGet"]["path"], container["ports"][0]["containerPort"]
        assert test[4:] == [f"http://127.0.0.1:{port}{path}"]
        assert services[component]["ports"] == [f"{port}:{port}"]


def test_compose_sets_only_settings_variables_and_everything_each_part_needs() -> None:
    services = _compose()
    for component in (*COMPONENTS, "migrate"):
        names = set(services[component]["environment"])
        assert names <= KNOWN, f"{component}: not read by any settings class: {sorted(names - KNOWN)}"
        assert REQUIRED[component] <= names, f"{component}: missing {sorted(REQUIRED[component] - names)}"
    for component, spec in GRPC.items():
        own = services[component]["environment"][f"GAIA_{component.upper()}_ADDR"]
        assert own == f"0.0.0.0:{_port(spec.address(Settings()))}"


# -- the image -----------------------------------------------------------------------------------------------


def test_the_dockerfile_is_multi_stage_non_root_and_copies_what_exists() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    stages = [line for line in instructions if line.startswith("FROM ")]
    assert len(stages) >= 2
    final = instructions[instructions.index(stages[-1]) :]
    (user,) = [line for line in final if line.startswith("USER ")]
    uid = int(user.split()[1].split(":")[0])
    objects = RENDER.render(K8S / "overlays" / "prod")
    pod = _one(objects, "Deployment", "gaia-chat")["spec"]["template"]["spec"]
    assert uid > 0 and uid == pod["securityContext"]["runAsUser"]
    assert 'ENTRYPOINT ["gaia"]' in final
    for line in instructions:
        if line.startswith("COPY ") and "--from=" not in line:
            *sources, _ = line.split()[1:]
            for source in sources:
                assert (ROOT / source).exists(), source
    variables = {m.group(1) for line in instructions for m in re.finditer(r"\b([A-Z][A-Z0-9_]+)=", line)}
    assert variables - INTERPRETER_VARIABLES - {"PIP_NO_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK"} <= KNOWN


def test_mesh_channels_balance_calls_round_robin_over_a_dns_name() -> None:
    """The headless Services are reached as ``dns:///gaia-<svc>:<port>``: calls spread over every pod."""
    from gaia_services.runtime import channels

    def policy(address: str) -> Any:
        options = dict(channels.channel_options(address))
        return json.loads(str(options.get("grpc.service_config", "{}"))).get("loadBalancingConfig")

    assert policy("dns:///gaia-chat:50052") == [{"round_robin": {}}]
    assert policy("ipv4:127.0.0.1:1,127.0.0.1:2") is None  # an address list: the first live one first

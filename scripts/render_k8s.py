"""Render a kustomization (the subset deploy/k8s uses) to YAML, without a kustomize binary.

    python scripts/render_k8s.py deploy/k8s/overlays/prod > prod.yaml

Supported, with kustomize's meaning: ``resources`` (files and directories holding a kustomization),
``patches`` (strategic-merge patches from ``path`` or inline ``patch``, optionally applied to every object a
``target`` selects by kind, name or ``labelSelector``), ``namespace``, ``labels`` (``pairs``,
``includeSelectors``, ``includeTemplates``), ``images``, ``replicas``, ``configMapGenerator`` and
``secretGenerator`` (``literals``, ``envs``, ``behavior`` create/merge/replace, name suffixed with a content
hash and every reference to it rewritten, unless ``options.disableNameSuffixHash``). Any other field is
refused, so that a manifest relying on a feature this renderer lacks fails here instead of being half
rendered. Strategic merge follows Kubernetes' merge keys for the lists used here (containers, env, ports,
volumes, volumeMounts… by ``name``); other lists are replaced. The hash is a SHA-256 of the data (not
byte-identical to kustomize's, which only matters when comparing rendered names across tools).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["KustomizeError", "render", "render_yaml"]

Obj = dict[str, Any]

_KNOWN = {
    "apiVersion",
    "kind",
    "resources",
    "patches",
    "namespace",
    "labels",
    "images",
    "replicas",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
}
_CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"}
_SCALABLE = {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}
_ORDER = (
    "Namespace",
    "ConfigMap",
    "Secret",
    "Service",
    "Deployment",
    "Job",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
)


class KustomizeError(ValueError):
    """A kustomization this renderer cannot render faithfully."""


@dataclass
class _Generated:
    obj: Obj
    hashed: bool


@dataclass
class _Level:
    objects: list[Obj] = field(default_factory=list)
    generated: dict[tuple[str, str], _Generated] = field(default_factory=dict)


def _load_documents(path: Path) -> list[Obj]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc or "metadata" not in doc:
            raise KustomizeError(f"{path}: every document needs kind and metadata")
    return docs


def _kustomization_file(folder: Path) -> Path:
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        if (folder / name).is_file():
            return folder / name
    raise KustomizeError(f"{folder}: no kustomization.yaml")


# -- strategic merge ---------------------------------------------------------------------------------------

_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "envFrom": None,  # replaced, as in Kubernetes (no merge key)
    "ports": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "imagePullSecrets": "name",
}


def _merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            elif key in out and isinstance(value, list) and _MERGE_KEYS.get(key):
                out[key] = _merge_list(out[key], value, _MERGE_KEYS[key])  # type: ignore[arg-type]
            elif key in out:
                out[key] = _merge(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
        return out
    return copy.deepcopy(patch)


def _merge_list(base: list[Any], patch: list[Any], key: str) -> list[Any]:
    out = [copy.deepcopy(item) for item in base]
    for item in patch:
        index = next((i for i, old in enumerate(out) if old.get(key) == item.get(key)), None)
        if index is None:
            out.append(copy.deepcopy(item))
        else:
            out[index] = _merge(out[index], item)
    return out


# -- selection -----------------------------------------------------------------------------------------------


def _labels_match(obj: Obj, selector: str) -> bool:
    labels = obj["metadata"].get("labels") or {}
    for term in filter(None, (t.strip() for t in selector.split(","))):
        key, sep, value = term.partition("=")
        if sep and labels.get(key) != value.lstrip("="):
            return False
        if not sep and key not in labels:
            return False
    return True


def _selected(obj: Obj, target: Obj) -> bool:
    unknown = set(target) - {"kind", "name", "labelSelector"}
    if unknown:
        raise KustomizeError(f"patch target fields not supported: {sorted(unknown)}")
    if "kind" in target and obj["kind"] != target["kind"]:
        return False
    if "name" in target and not re.fullmatch(target["name"], obj["metadata"]["name"]):
        return False
    return "labelSelector" not in target or _labels_match(obj, target["labelSelector"])


def _find(objects: list[Obj], kind: str, name: str) -> Obj:
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    raise KustomizeError(f"no {kind} {name} to patch")


# -- pod templates -------------------------------------------------------------------------------------------


def _pod_template(obj: Obj) -> Obj | None:
    spec = obj.get("spec") or {}
    if obj["kind"] == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    template = spec.get("template")
    return template if isinstance(template, dict) else None


def _containers(obj: Obj) -> Iterator[Obj]:
    template = _pod_template(obj)
    if template is None:
        return
    pod = template.get("spec") or {}
    yield from pod.get("initContainers") or ()
    yield from pod.get("containers") or ()


# -- generators ----------------------------------------------------------------------------------------------


def _pairs(entry: Obj, folder: Path) -> dict[str, str]:
    data: dict[str, str] = {}
    for env in entry.get("envs") or ():
        for raw in (folder / env).read_text().splitlines():
            line = raw.strip()
            if line and not line.startswith("#"):
                key, sep, value = line.partition("=")
                if not sep:
                    raise KustomizeError(f"{folder / env}: not KEY=VALUE: {line!r}")
                data[key.strip()] = value
    for literal in entry.get("literals") or ():
        key, sep, value = str(literal).partition("=")
        if not sep:
            raise KustomizeError(f"literal not KEY=VALUE: {literal!r}")
        data[key] = value
    unknown = set(entry) - {"name", "envs", "literals", "behavior", "options", "type"}
    if unknown:
        raise KustomizeError(f"generator fields not supported: {sorted(unknown)}")
    return data


def _generate(kind: str, entry: Obj, folder: Path, level: _Level, options: Obj) -> None:
    name = entry["name"]
    data = _pairs(entry, folder)
    behavior = entry.get("behavior", "create")
    hashed = not {**options, **(entry.get("options") or {})}.get("disableNameSuffixHash", False)
    existing = level.generated.get((kind, name))
    if behavior == "create":
        if existing is not None:
            raise KustomizeError(f"{kind} {name} generated twice (use behavior: merge)")
        obj: Obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}
        if kind == "Secret":
            obj["type"] = entry.get("type", "Opaque")
        level.objects.append(obj)
        existing = level.generated[(kind, name)] = _Generated(obj, hashed)
        existing.obj["data"] = {}
    elif existing is None:
        raise KustomizeError(f"{kind} {name}: behavior {behavior} but no base generates it")
    elif behavior == "replace":
        existing.obj["data"] = {}
    elif behavior != "merge":
        raise KustomizeError(f"unknown generator behavior {behavior!r}")
    if kind == "Secret":
        data = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    existing.obj["data"].update(data)
    existing.hashed = existing.hashed and hashed


def _content_hash(obj: Obj) -> str:
    body = {"kind": obj["kind"], "name": obj["metadata"]["name"], "data": obj.get("data", {})}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:10]


def _rename_references(objects: Iterable[Obj], kind: str, old: str, new: str) -> None:
    ref_key = "configMapKeyRef" if kind == "ConfigMap" else "secretKeyRef"
    from_key = "configMapRef" if kind == "ConfigMap" else "secretRef"
    for obj in objects:
        template = _pod_template(obj)
        if template is None:
            continue
        pod = template.get("spec") or {}
        for volume in pod.get("volumes") or ():
            if kind == "ConfigMap" and (volume.get("configMap") or {}).get("name") == old:
                volume["configMap"]["name"] = new
            if kind == "Secret" and (volume.get("secret") or {}).get("secretName") == old:
                volume["secret"]["secretName"] = new
        for container in _containers(obj):
            for source in container.get("envFrom") or ():
                if (source.get(from_key) or {}).get("name") == old:
                    source[from_key]["name"] = new
            for env in container.get("env") or ():
                ref = (env.get("valueFrom") or {}).get(ref_key)
                if ref and ref.get("name") == old:
                    ref["name"] = new


# -- one kustomization ---------------------------------------------------------------------------------------


def _render_level(folder: Path) -> _Level:
    spec = yaml.safe_load(_kustomization_file(folder).read_text()) or {}
    unknown = set(spec) - _KNOWN
    if unknown:
        raise KustomizeError(f"{folder}: kustomization fields not supported: {sorted(unknown)}")
    level = _Level()
    for resource in spec.get("resources") or ():
        path = (folder / resource).resolve()
        if path.is_dir():
            inner = _render_level(path)
            level.objects.extend(inner.objects)
            level.generated.update(inner.generated)
        else:
            level.objects.extend(_load_documents(path))

    options = spec.get("generatorOptions") or {}
    for entry in spec.get("configMapGenerator") or ():
        _generate("ConfigMap", entry, folder, level, options)
    for entry in spec.get("secretGenerator") or ():
        _generate("Secret", entry, folder, level, options)

    for patch in spec.get("patches") or ():
        if set(patch) - {"path", "patch", "target"}:
            raise KustomizeError(f"{folder}: patch fields not supported: {sorted(patch)}")
        bodies = (
            _load_documents(folder / patch["path"])
            if "path" in patch
            else list(yaml.safe_load_all(patch["patch"]))
        )
        for body in bodies:
            if "target" in patch:
                targets = [o for o in level.objects if _selected(o, patch["target"])]
                if not targets:
                    raise KustomizeError(f"{folder}: patch target {patch['target']} selects nothing")
            else:
                targets = [_find(level.objects, body["kind"], body["metadata"]["name"])]
            for target in targets:
                merged = _merge(target, {k: v for k, v in body.items() if k not in ("metadata",)})
                merged["metadata"] = _merge(
                    target["metadata"], {k: v for k, v in body["metadata"].items() if k != "name"}
                )
                target.clear()
                target.update(merged)

    for replica in spec.get("replicas") or ():
        matched = [
            o for o in level.objects if o["metadata"]["name"] == replica["name"] and o["kind"] in _SCALABLE
        ]
        if not matched:
            raise KustomizeError(f"{folder}: replicas for unknown {replica['name']}")
        for obj in matched:
            obj["spec"]["replicas"] = int(replica["count"])

    for image in spec.get("images") or ():
        for obj in level.objects:
            for container in _containers(obj):
                name, tag = _split_image(container["image"])
                if name == image["name"]:
                    new = image.get("newName", name)
                    if "digest" in image:
                        container["image"] = f"{new}@{image['digest']}"
                    else:
                        new_tag = image.get("newTag", tag)
                        container["image"] = f"{new}:{new_tag}" if new_tag else new

    if "namespace" in spec:
        for obj in level.objects:
            if obj["kind"] not in _CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = spec["namespace"]

    for entry in spec.get("labels") or ():
        _add_labels(level.objects, entry)
    return level


def _split_image(image: str) -> tuple[str, str]:
    if "@" in image:
        return image.split("@", 1)[0], ""
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return image, ""
    return name, tag


def _add_labels(objects: list[Obj], entry: Obj) -> None:
    if set(entry) - {"pairs", "includeSelectors", "includeTemplates"}:
        raise KustomizeError(f"labels fields not supported: {sorted(entry)}")
    pairs = entry.get("pairs") or {}
    selectors = bool(entry.get("includeSelectors"))
    templates = selectors or bool(entry.get("includeTemplates"))
    for obj in objects:
        obj["metadata"].setdefault("labels", {}).update(pairs)
        template = _pod_template(obj)
        if templates and template is not None:
            template.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
        if selectors:
            spec = obj.get("spec") or {}
            if obj["kind"] == "Service":
                spec.setdefault("selector", {}).update(pairs)
            elif "selector" in spec:
                spec["selector"].setdefault("matchLabels", {}).update(pairs)


# -- facade --------------------------------------------------------------------------------------------------


def render(folder: Path | str) -> list[Obj]:
    """Every object the kustomization at ``folder`` produces, in kustomize's apply order."""
    level = _render_level(Path(folder).resolve())
    for (kind, name), generated in level.generated.items():
        if generated.hashed:
            new = f"{name}-{_content_hash(generated.obj)}"
            generated.obj["metadata"]["name"] = new
            _rename_references(level.objects, kind, name, new)
    rank = {kind: i for i, kind in enumerate(_ORDER)}
    return sorted(
        level.objects, key=lambda o: (rank.get(o["kind"], len(rank)), o["kind"], o["metadata"]["name"])
    )


def render_yaml(folder: Path | str) -> str:
    return yaml.safe_dump_all(render(folder), sort_keys=False, explicit_start=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: render_k8s.py <folder with a kustomization.yaml>")
    try:
        sys.stdout.write(render_yaml(sys.argv[1]))
    except KustomizeError as exc:
        sys.exit(f"render_k8s: {exc}")

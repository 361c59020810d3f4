"""Configuration: configs/default.yaml, overlaid by an experiment file, then by --set key=value.

Every key a user may set exists in default.yaml; anything else is an error that names the
nearest valid key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Any

import yaml

from elmtex import ROOT
from elmtex.errors import ConfigError, UserError  # most modules take them from here

DEFAULT_CONFIG = ROOT / "configs" / "default.yaml"


def install_error_hook() -> None:
    """Print UserErrors as one line and exit 1; everything else keeps its traceback."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        if isinstance(value, UserError):
            print(f"error: {value}", file=sys.stderr)
        else:
            previous(kind, value, tb)

    sys.excepthook = hook


def resolve_path(path: str | Path) -> Path:
    """Config paths are relative to the repository root, so scripts work from any directory."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else ROOT / p


def _flat_keys(tree: dict, prefix: str = "") -> list[str]:
    keys = []
    for k, v in tree.items():
        dotted = f"{prefix}{k}"
        keys.append(dotted)
        if isinstance(v, dict):
            keys.extend(_flat_keys(v, dotted + "."))
    return keys


def _unknown_key(key: str, tree: dict, source: str) -> ConfigError:
    near = difflib.get_close_matches(key, _flat_keys(tree), n=1, cutoff=0.0)
    hint = f" Did you mean '{near[0]}'?" if near else ""
    return ConfigError(f"Unknown config key '{key}' (from {source}).{hint}")


# Keys whose value may be one string or a list of strings (several servers of one model).
STRING_OR_LIST_KEYS = {"backend.openai.base_url"}
# Booleans that may also be "auto" (decided by the hardware: elmtex/hardware.py).
AUTO_OR_BOOL_KEYS = {"finetune.bf16", "backend.vllm.enforce_eager"}
# Sections that take keys default.yaml does not list: their consumer checks them (finetune.sft
# goes to trl.SFTConfig as it is; elmtex.finetune.check_sft_keys names an unknown field).
OPEN_SECTIONS = {"finetune.sft"}


def _check_type(key: str, default: Any, value: Any, source: str) -> Any:
    """Keep the type of the default; ints are accepted where floats are expected."""
    if default is None or value is None:
        return value
    if key in AUTO_OR_BOOL_KEYS:
        if not (isinstance(value, bool) or value == "auto"):
            raise ConfigError(
                f"Config key '{key}' (from {source}) wants true, false or auto, got {value!r}."
            )
        return value
    if key in STRING_OR_LIST_KEYS and isinstance(value, list):
        if not value or not all(isinstance(v, str) for v in value):
            raise ConfigError(
                f"Config key '{key}' (from {source}) wants a string or a "
                f"non-empty list of strings, got {value!r}."
            )
        return value
    if isinstance(default, bool) != isinstance(value, bool):
        raise ConfigError(f"Config key '{key}' (from {source}) wants a boolean, got {value!r}.")
    if isinstance(default, float) and isinstance(value, int):
        return float(value)
    if isinstance(default, (int, float, str, list, dict)) and not isinstance(value, type(default)):
        raise ConfigError(
            f"Config key '{key}' (from {source}) wants a {type(default).__name__}, "
            f"got {type(value).__name__} {value!r}."
        )
    return value


def _merge(base: dict, overlay: dict, source: str, prefix: str = "", root: dict | None = None):
    root = base if root is None else root
    for k, v in overlay.items():
        dotted = f"{prefix}{k}"
        if k not in base:
            # An empty mapping in default.yaml is a free-form section (e.g. extra model kwargs).
            if (base == {} and prefix) or prefix[:-1] in OPEN_SECTIONS:
                base[k] = v
                continue
            raise _unknown_key(dotted, root, source)
        if isinstance(base[k], dict) and isinstance(v, dict):
            _merge(base[k], v, source, dotted + ".", root)
        else:
            base[k] = _check_type(dotted, base[k], v, source)


def set_value(cfg: dict, assignment: str) -> None:
    """Apply one `key.sub=value`; the value is parsed as YAML (so 8, 0.1, true, [a, b] work)."""
    if "=" not in assignment:
        raise ConfigError(f"--set wants key=value, got '{assignment}'.")
    key, raw = assignment.split("=", 1)
    key = key.strip()
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as e:
        problem = str(e).splitlines()[0]
        raise ConfigError(
            f"--set {key}: the value {raw!r} is not valid YAML ({problem}); "
            "quote it, e.g. --set 'key=\"text\"'."
        ) from None
    node = cfg
    parts = key.split(".")
    for i, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            if (
                isinstance(node, dict)
                and i > 0
                and (node == {} or ".".join(parts[:i]) in OPEN_SECTIONS)
            ):
                break  # free-form section
            raise _unknown_key(key, cfg, "--set")
        if i < len(parts) - 1:
            node = node[part]
    overlay: Any = value
    for part in reversed(parts):
        overlay = {part: overlay}
    _merge(cfg, overlay, "--set")


def load_yaml(path: Path) -> dict:
    if not path.exists():
        raise ConfigError(f"Config file not found: {path}")
    try:
        from elmtex.guards import read_utf8

        data = yaml.safe_load(read_utf8(path)) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path} is not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of config keys, got {type(data).__name__}.")
    return data


def load_config(
    config_file: str | Path | None = None, overrides: list[str] = (), resolve_auto: bool = True
) -> dict:
    """default.yaml <- experiment file (may name further `include:` files) <- --set values;
    then every `auto` precision resolved for this machine (elmtex.hardware.resolve_precision),
    so what a manifest records, and what decides whether caches may be mixed, is concrete."""
    cfg = load_yaml(DEFAULT_CONFIG)
    cfg.pop("include", None)
    if config_file:
        path = resolve_path(config_file)
        for layer_path in _include_chain(path):
            layer = load_yaml(layer_path)
            layer.pop("include", None)
            _merge(cfg, layer, str(layer_path))
    for assignment in overrides:
        set_value(cfg, assignment)
    from elmtex.guards import check_config

    check_config(cfg)  # ranges, choices, file names: before any model loads
    if resolve_auto:
        from elmtex.hardware import resolve_precision

        resolve_precision(cfg, show=False)
    return cfg


def _include_chain(path: Path, seen: tuple = ()) -> list[Path]:
    """An experiment file may start from another one with `include: other.yaml`."""
    if path in seen:
        raise ConfigError(f"Config include loop: {' -> '.join(map(str, seen + (path,)))}")
    inc = load_yaml(path).get("include")
    if not inc:
        return [path]
    parent = (path.parent / inc) if not Path(inc).is_absolute() else Path(inc)
    if not parent.exists():
        parent = resolve_path(inc)
    return _include_chain(parent, seen + (path,)) + [path]


def add_config_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--config", help="experiment YAML overlaid on configs/default.yaml")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override one config value, e.g. --set backend.batch_size=4 (repeatable)",
    )
    return parser


def config_from_args(args: argparse.Namespace, show: bool = True) -> dict:
    install_error_hook()
    cfg = load_config(args.config, args.overrides, resolve_auto=False)
    from elmtex.hardware import resolve_precision

    resolve_precision(cfg, show=show)
    if show:
        print("# config in effect")
        print(dump_config(cfg), end="")
    return cfg


def dump_config(cfg: dict) -> str:
    """The config as YAML, secrets redacted (elmtex.guards.redact_config)."""
    from elmtex.guards import redact_config

    return yaml.safe_dump(redact_config(cfg), sort_keys=False, allow_unicode=True)

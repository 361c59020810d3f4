import pytest

from elmtex.config import ConfigError, load_config


def test_default_config_loads_and_has_the_task():
    cfg = load_config()
    assert cfg["task"].endswith("elmtex.yaml")
    assert cfg["backend"]["name"] == "transformers"


def test_set_parses_yaml_values_with_types():
    cfg = load_config(
        overrides=[
            "backend.batch_size=4",
            "generation.temperature=0.1",
            "data.langs=[de]",
            "data.limit=null",
        ]
    )
    assert cfg["backend"]["batch_size"] == 4
    assert cfg["generation"]["temperature"] == 0.1
    assert cfg["data"]["langs"] == ["de"]
    assert cfg["data"]["limit"] is None


def test_int_accepted_for_float():
    cfg = load_config(overrides=["generation.temperature=1"])
    assert cfg["generation"]["temperature"] == 1.0 and isinstance(
        cfg["generation"]["temperature"], float
    )


def test_unknown_key_names_nearest_valid_key():
    with pytest.raises(ConfigError) as e:
        load_config(overrides=["backend.batchsize=4"])
    assert "backend.batchsize" in str(e.value)
    assert "backend.batch_size" in str(e.value)


def test_unknown_key_in_experiment_file(tmp_path):
    f = tmp_path / "exp.yaml"
    f.write_text("generation:\n  max_new_token: 10\n")
    with pytest.raises(ConfigError) as e:
        load_config(f)
    assert "generation.max_new_token" in str(e.value)
    assert "generation.max_new_tokens" in str(e.value)
    assert str(f) in str(e.value)


def test_wrong_type_is_an_error():
    with pytest.raises(ConfigError, match="backend.batch_size"):
        load_config(overrides=["backend.batch_size=eight"])


def test_experiment_overlay_then_set_wins(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text("generation:\n  max_new_tokens: 100\n  seed: 7\n")
    exp = tmp_path / "exp.yaml"
    exp.write_text("include: base.yaml\ngeneration:\n  max_new_tokens: 200\n")
    cfg = load_config(exp, ["generation.seed=9"])
    assert cfg["generation"]["max_new_tokens"] == 200
    assert cfg["generation"]["seed"] == 9


def test_set_without_equals_is_an_error():
    with pytest.raises(ConfigError, match="key=value"):
        load_config(overrides=["backend.batch_size"])


def test_shipped_experiment_configs_load():
    from elmtex import ROOT

    files = sorted((ROOT / "configs" / "experiments").glob("*.yaml"))
    assert files, "configs/experiments/ should hold at least one experiment"
    for f in files:
        load_config(f)

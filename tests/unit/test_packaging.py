"""The package installs whole: provider_spec/ ships inside it, and a missing spec is a SpecError.

Building and installing the real wheel takes a fresh venv and is `.ci/wheel`'s job; these tests
check, without a build, what that install relies on.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import sqlprovider
from sqlprovider.cli.main import main
from sqlprovider.errors import SpecError
from sqlprovider.spec import default_spec_dir, load_providers

ROOT = Path(__file__).resolve().parents[2]
tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the rules are the same on 3.10


def project() -> dict[str, object]:
    return dict(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8")))


def setuptools_table() -> dict[str, object]:
    tool = project()["tool"]
    assert isinstance(tool, dict)
    return dict(tool["setuptools"])


def test_every_sub_package_is_listed_for_the_wheel() -> None:
    listed = set(setuptools_table()["packages"])  # type: ignore[call-overload]
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "sqlprovider").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages"


def test_provider_spec_ships_inside_the_package() -> None:
    table = setuptools_table()
    assert table["package-dir"] == {"sqlprovider.provider_spec": "provider_spec"}
    assert "sqlprovider.provider_spec" in table["packages"]  # type: ignore[operator]
    shipped = set()
    for package, globs in table["package-data"].items():  # type: ignore[union-attr]
        if package.startswith("sqlprovider.provider_spec"):
            assert package in table["packages"], f"{package} has data but is not a package"  # type: ignore[operator]
            folder = ROOT / "provider_spec" / Path(*package.split(".")[2:])
            shipped |= {p for pattern in globs for p in folder.glob(pattern)}
    every = set((ROOT / "provider_spec").rglob("*.yaml"))
    assert every, "no spec files found"
    assert every == shipped, f"not shipped: {sorted(every - shipped)}"


def test_the_spec_comes_from_the_installed_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An installed wheel: sqlprovider/provider_spec/ is a resource package of its own.
    installed = tmp_path / "site" / "sqlprovider" / "provider_spec"
    (installed / "digitalocean").mkdir(parents=True)
    (installed / "__init__.py").write_text("")
    for path in (ROOT / "provider_spec" / "digitalocean").glob("*.yaml"):
        (installed / "digitalocean" / path.name).write_text(path.read_text())
    spec = importlib.util.spec_from_file_location(
        "sqlprovider.provider_spec",
        installed / "__init__.py",
        submodule_search_locations=[str(installed)],
    )
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "sqlprovider.provider_spec", module)
    monkeypatch.delenv("SQLPROVIDER_SPEC_DIR", raising=False)
    assert default_spec_dir() == installed
    (provider,) = load_providers()
    assert provider.name == "digitalocean"


def test_a_missing_spec_folder_is_a_spec_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(SpecError, match="nowhere: cannot read the spec folder"):
        load_providers(missing)


def test_an_unreadable_spec_file_is_a_spec_error_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "provider.yaml").write_bytes(b"provider: shop\ndescription: \xff\xfe\n")
    with pytest.raises(SpecError, match=r"provider\.yaml: cannot read \(not UTF-8 text"):
        load_providers(tmp_path)


def test_a_missing_spec_through_the_cli_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["query", "--sandbox", "--spec-dir", str(tmp_path / "gone"), "SELECT 1"])
    err = capsys.readouterr().err
    assert code == 1
    assert "gone: cannot read the spec folder (No such file or directory)" in err
    assert "Traceback" not in err


def test_version_is_the_project_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    version = project()["project"]["version"]  # type: ignore[index]
    assert out.startswith(f"sqlprovider {version} (SQLite ")
    assert sqlprovider.__version__ == version

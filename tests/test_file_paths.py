"""convcost.file_paths spells file names as pathlib does, without importing it: held to
pathlib itself (the oracle) on every name of up to seven characters from ``/``, ``.``, ``a``
and ``b`` (the characters its rules are about), and on hypothesis' text."""

from __future__ import annotations

import itertools
import os
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcost import file_paths, zoo
from convcost.file_paths import path_join, path_name, path_parent, path_stem, path_text

NAMES = [
    "".join(letters) for size in range(8) for letters in itertools.product("/.ab", repeat=size)
]
"""21,845 names: roots of one, two and three slashes, ``.`` and ``..`` components, empty
components, trailing slashes, hidden names and suffixes."""


def _same_as_pathlib(name: str) -> None:
    path = PurePosixPath(name)
    assert path_text(name) == str(path), name
    assert path_name(name) == path.name, name
    assert path_stem(name) == path.stem, name
    assert path_parent(name) == str(path.parent), name


@pytest.mark.skipif(os.sep != "/", reason="pathlib's POSIX rules: elsewhere it is asked itself")
def test_names_are_spelled_as_pathlib_spells_them() -> None:
    for name in NAMES:
        _same_as_pathlib(name)


@pytest.mark.skipif(os.sep != "/", reason="as above")
def test_joined_names_are_pathlib_s() -> None:
    short = [name for name in NAMES if len(name) <= 4]  # 341 × 341 pairs
    for base, name in itertools.product(short, short):
        assert path_join(base, name) == str(PurePosixPath(base) / name), (base, name)


@pytest.mark.skipif(os.sep != "/", reason="as above")
@given(st.text(alphabet=st.sampled_from("/.ab\\ \n\x00é~"), max_size=30) | st.text(max_size=20))
def test_any_text_is_spelled_as_pathlib_spells_it(name: str) -> None:
    _same_as_pathlib(name)


def test_path_objects_and_refusals() -> None:
    # a Path (any os.PathLike) is accepted, as pathlib accepts it
    assert path_text(Path("a//b/")) == "a/b"
    assert path_stem(Path("dir/net.v2.yaml")) == "net.v2"
    with pytest.raises(TypeError, match="argument should be a str object"):
        path_text(b"a")  # type: ignore[arg-type]  # pathlib's refusal of bytes
    with pytest.raises(TypeError, match="argument should be a str object"):
        Path(b"a")  # type: ignore[arg-type]  # (the oracle's)


def test_model_paths_are_onnx_files_in_any_case() -> None:
    assert file_paths.is_model_path("m.ONNX")
    assert file_paths.is_model_path(Path("dir/m.onnx"))
    assert not file_paths.is_model_path("m.onnx.yaml")


def test_the_zoo_keeps_its_path_objects() -> None:
    """``zoo.find`` and ``zoo.ZOO_DIR`` stay ``Path`` objects; :func:`zoo.spec_file` is the
    same file as text."""
    found = zoo.find("resnet50.yaml")
    assert isinstance(found, Path)
    assert found == zoo.ZOO_DIR / "resnet50.yaml"
    assert str(found) == zoo.spec_file("resnet50")
    assert zoo.find("no-such-model") is None
    assert zoo.spec_file("../zoo/resnet50") is None  # a name, never a path
    # the listing of the folder, as pathlib globs it
    assert zoo.names() == sorted(path.stem for path in zoo.ZOO_DIR.glob("*.yaml"))
    with pytest.raises(AttributeError, match="has no attribute 'ZOO'"):
        _ = zoo.ZOO  # type: ignore[attr-defined]

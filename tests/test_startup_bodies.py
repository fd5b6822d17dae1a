"""What module bodies on the ``analyze`` path do at import (issue 18, start-up): no regular
expression compiled by convcost but the plain YAML reader's, no typing alias per field reader."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from convcost.layers import kind

_PROBE = textwrap.dedent(
    """
    import json, re, sys
    compiled = []
    real = re._compile

    def _compile(pattern, flags):
        if (type(pattern), pattern, flags) not in re._cache:
            caller = sys._getframe(1)
            while caller.f_code.co_filename.endswith("re/__init__.py"):
                caller = caller.f_back
            compiled.append(caller.f_code.co_filename)
        return real(pattern, flags)

    re._compile = _compile
    sys.argv = ["convcost", *sys.argv[1:]]
    try:
        from convcost.__main__ import main
        main()
    except SystemExit:
        pass
    sys.stderr.write(json.dumps([compiled, sorted(sys.modules)]))
    """
)


def probed(*args: str) -> tuple[list[str], set[str]]:
    """The convcost modules that compile a regular expression during ``convcost <args>``, and
    the modules loaded at its end."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, check=True
    )
    files, modules = json.loads(done.stderr.splitlines()[-1])
    return [name.rsplit("convcost/", 1)[1] for name in files if "/convcost/" in name], set(modules)


def test_analyze_compiles_only_the_plain_yaml_readers_expressions() -> None:
    # resnet50.yaml has `×` in its comments, `$mid` and `${mid * 4}` in its blocks
    for args in (["analyze", "resnet50"], ["analyze", "resnet50", "-f", "json"]):
        found, modules = probed(*args)
        assert set(found) <= {"plainyaml.py"}, found  # its five (at most), as it loads
        assert len(found) <= 5, found
        # dataclasses was imported without copy (convcost.valueclasses._Deferred)
        assert modules & {"copy", "inspect"} == set()
        assert "dataclasses" in modules


def test_a_field_reader_subclasses_field_itself() -> None:
    # Field[int] is Field when the program runs: no typing alias is made for each reader
    readers = [kind.IntegerField, kind.PerAxisField, kind.FlagField, kind.TextField]
    assert kind.Field[int] is kind.Field
    assert all(reader.__bases__ == (kind.Field,) for reader in readers)


def test_asdict_copies_after_dataclasses_was_loaded_without_copy() -> None:
    """``dataclasses.asdict`` deep-copies each value with ``copy.deepcopy``: the real
    :mod:`copy`, imported when first read."""
    code = (
        "import sys, convcost.valueclasses, dataclasses\n"
        "assert 'copy' not in sys.modules\n"
        "@convcost.valueclasses.dataclass(frozen=True, slots=True)\n"
        "class A:\n    x: list[object]\n"
        "a = A([1, [2]])\nd = dataclasses.asdict(a)\n"
        "print(d, d['x'] is a.x, d['x'][1] is a.x[1], 'copy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "{'x': [1, [2]]} False False True\n"  # new lists, as documented

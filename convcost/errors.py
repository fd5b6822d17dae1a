"""Exit codes, source locations and the exceptions users see.

A user error is one line that says where (``file:line:col``), what (the layer path and
field) and what is allowed. Bugs are left to raise with a traceback.
"""

from __future__ import annotations

import enum

from convcost.valueclasses import dataclass


class ExitStatus(enum.IntEnum):
    """Process exit codes of the ``convcost`` command."""

    OK = 0
    BUDGET_EXCEEDED = 1
    INVALID_INPUT = 2
    """An invalid spec, flag or file; also typer's own code for usage errors."""
    SHAPE_MISMATCH = 3
    """``--execute`` found a real shape that differs from the predicted one."""
    RESOURCE_LIMIT = 4
    """A resource bound was reached: ``--execute`` above ``--max-memory`` (or out of memory),
    or a spec past ``--max-layers`` or another bound in :mod:`convcost.limits`."""


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a spec file; ``line`` and ``column`` count from 1."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class ConvcostError(Exception):
    """Base of every error convcost reports to a user without a traceback."""

    exit_status: ExitStatus = ExitStatus.INVALID_INPUT

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        layer: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.location = location
        self.layer = layer
        self.field = field
        self.names_chain = False
        """Set on an error about the nesting of blocks itself (a cycle, a depth bound), whose
        message names the chain: the builder then adds no uses."""
        self.base_message = message
        self.uses: list[str] = []
        """The block uses added to the message (:mod:`convcost.calls`), innermost first."""
        self.call_sites: list[Location] = []
        """Where the blocks around the problem were used, innermost first: an error inside a
        block's body is located at the body, and the outermost use is the line a user edits
        (a GitHub annotation lands there)."""
        super().__init__(str(self))

    @property
    def annotated_location(self) -> Location | None:
        """Where an annotation of this error belongs: the outermost block use, else the
        error's own location."""
        return self.call_sites[-1] if self.call_sites else self.location

    def __str__(self) -> str:
        parts = []
        if self.location is not None:
            parts.append(str(self.location))
        where = []
        if self.layer:
            where.append(f"layer {self.layer}")
        if self.field:
            where.append(f"field {self.field}")
        if where:
            parts.append(", ".join(where))
        parts.append(self.message)
        return ": ".join(parts)


class SpecError(ConvcostError):
    """The spec is invalid: bad YAML, an unknown key, a bad value or an impossible shape."""


class ShapeError(SpecError):
    """Layer shapes do not fit together (an output size below 1, a branch mismatch)."""


class ExecutionError(ConvcostError):
    """``--execute`` found a real output shape that differs from the prediction."""

    exit_status = ExitStatus.SHAPE_MISMATCH


class ResourceLimitError(ConvcostError):
    """A resource bound: ``--execute`` would need more memory than allowed, or a spec expands
    past a bound of :mod:`convcost.limits` (too many layers, too large a file)."""

    exit_status = ExitStatus.RESOURCE_LIMIT


class ModelError(ConvcostError):
    """An imported model (an ONNX file, a torch module) cannot become a spec: not a model, a
    truncated file, an unsupported operator, a graph that is not series-parallel. The message
    names the node (``node "name" (OpType)``) where a spec error would name file:line:col."""

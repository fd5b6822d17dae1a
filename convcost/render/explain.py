"""``convcost explain`` as a worked example (rich; plain text when not on a terminal), as JSON
(docs/json-format.md) and as Markdown. User text (paths, names, branch names) is escaped for
each format."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from convcost.explain import Explanation, LayerExplanation, Step, step_text
from convcost.explain.steps import Number
from convcost.integers import digits
from convcost.jsontext import dumps
from convcost.render import numbers
from convcost.render.escape import markdown_code, markdown_text, printable
from convcost.serialize import fraction_json
from convcost.version import __version__

LABEL_WIDTH = 17


def layer_text(item: LayerExplanation) -> Text:
    """The heading line, the settings, then one line per step."""
    text = Text()
    text.append(printable(item.path), style="bold")
    text.append(f"  {printable(item.kind)}", style="cyan")
    text.append(
        f"  {numbers.shape(item.input_shape)} → {numbers.shape(item.output_shape)}", style="dim"
    )
    if item.settings:
        text.append(f"\n  {printable(item.settings)}", style="dim")
    for step in item.steps:
        text.append("\n")
        text.append_text(step_line(step))
    return text


def step_line(step: Step) -> Text:
    line = Text("  ")
    line.append(f"{step.quantity.value:<{LABEL_WIDTH}}", style="dim")
    body = printable(step_text(step))
    if step.value is not None and step.formula:
        head, _, result = body.partition("  (")
        equals = head.rfind(" = ")
        line.append(head[: equals + 3])
        line.append(head[equals + 3 :], style="bold green")
        if result:
            line.append(f"  ({result}", style="dim")
    else:
        line.append(body)
    return line


def print_explanations(console: Console, explanations: tuple[Explanation, ...]) -> None:
    many = len(explanations) > 1
    for explanation in explanations:
        if many or explanation.name:
            console.print(
                Text(
                    f"{printable(explanation.name)}  input {numbers.shape(explanation.input_shape)}",
                    style="bold underline",
                )
            )
            console.print()
        for item in explanation.layers:
            console.print(layer_text(item))
            console.print()


def _value_json(value: Number | None) -> dict[str, Any]:
    """``value`` (an integer, or the nearest float) and ``fraction`` (``"n/d"`` when the value
    is not an integer, else null)."""
    if value is None:
        return {"value": None, "fraction": None}
    if isinstance(value, int) or value.denominator == 1:
        return {"value": int(value), "fraction": None}
    return {
        "value": fraction_json(value),
        "fraction": f"{digits(value.numerator)}/{digits(value.denominator)}",
    }


def _step_json(step: Step) -> dict[str, Any]:
    return {
        "quantity": step.quantity.name.lower(),
        "label": step.quantity.value,
        "symbol": step.symbol,
        "formula": step.formula,
        "substituted": step.substituted,
        **_value_json(step.value),
        "axes": list(step.axes),
        "note": step.note,
        "text": step_text(step),
    }


def _layer_json(item: LayerExplanation) -> dict[str, Any]:
    return {
        "path": item.path,
        "kind": item.kind,
        "settings": item.settings,
        "input_shape": list(item.input_shape),
        "output_shape": list(item.output_shape),
        "steps": [_step_json(step) for step in item.steps],
    }


def explanations_to_dict(explanations: tuple[Explanation, ...], *, source: str) -> dict[str, Any]:
    """The JSON contract of ``convcost explain --format json`` (docs/json-format.md)."""
    return {
        "convcost_version": __version__,
        "source": source,
        "variants": [
            {
                "name": explanation.name,
                "input_shape": list(explanation.input_shape),
                "layers": [_layer_json(item) for item in explanation.layers],
            }
            for explanation in explanations
        ],
    }


def explanations_json(
    explanations: tuple[Explanation, ...], *, source: str, indent: int | None = None
) -> str:
    return dumps(explanations_to_dict(explanations, source=source), indent=indent)


def explanations_markdown(explanations: tuple[Explanation, ...]) -> str:
    """A heading per variant, then per layer a line (path, kind, shapes, settings) and a
    table of its steps."""
    lines: list[str] = []
    for explanation in explanations:
        lines += [
            f"### {markdown_text(explanation.name)}",
            "",
            f"Input {numbers.shape(explanation.input_shape)}.",
            "",
        ]
        for item in explanation.layers:
            head = (
                f"{markdown_code(item.path)} {markdown_text(item.kind)}, "
                f"{numbers.shape(item.input_shape)} → {numbers.shape(item.output_shape)}"
            )
            if item.settings:
                head += f": {markdown_text(item.settings)}"
            lines += [head, "", "| quantity | formula |", "|---|---|"]
            lines += [
                f"| {step.quantity.value} | {markdown_text(step_text(step))} |"
                for step in item.steps
            ]
            lines.append("")
    return "\n".join(lines)

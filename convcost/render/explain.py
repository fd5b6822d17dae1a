"""``convcost explain`` as a worked example (rich); plain text when not on a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from convcost.explain import Explanation, LayerExplanation, Step, step_text
from convcost.render import numbers

LABEL_WIDTH = 17


def layer_text(item: LayerExplanation) -> Text:
    """The heading line, the settings, then one line per step."""
    text = Text()
    text.append(item.path, style="bold")
    text.append(f"  {item.kind}", style="cyan")
    text.append(
        f"  {numbers.shape(item.input_shape)} → {numbers.shape(item.output_shape)}", style="dim"
    )
    if item.settings:
        text.append(f"\n  {item.settings}", style="dim")
    for step in item.steps:
        text.append("\n")
        text.append_text(step_line(step))
    return text


def step_line(step: Step) -> Text:
    line = Text("  ")
    line.append(f"{step.quantity.value:<{LABEL_WIDTH}}", style="dim")
    body = step_text(step)
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
                    f"{explanation.name}  input {numbers.shape(explanation.input_shape)}",
                    style="bold underline",
                )
            )
            console.print()
        for item in explanation.layers:
            console.print(layer_text(item))
            console.print()

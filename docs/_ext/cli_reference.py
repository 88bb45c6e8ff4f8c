"""A Sphinx directive that writes the command-line reference from vsrbench's own argparse parser.

``.. cli-reference::`` (in MyST: a ``{cli-reference}`` fence) imports :func:`vsrbench.cli.build_parser`
at build time and renders, for ``vsrbench`` and each sub-command (and their own sub-commands), one
section with the command's description, its usage line, each argument group with every argument's
spellings and help (``%(default)s`` expanded as ``--help`` expands it), and the epilog (the
examples) as written. Nothing is copied into the docs: a changed option changes the page.
"""
from __future__ import annotations

import argparse
import importlib

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

#: where the parser builder lives, and the names it may have (the CLI's own module)
PARSER_MODULE = "vsrbench.cli"
BUILDER_NAMES = ("build_parser", "make_parser")


def load_parser() -> argparse.ArgumentParser:
    """The ``vsrbench`` parser, built by the CLI module's parser builder."""
    module = importlib.import_module(PARSER_MODULE)
    for name in BUILDER_NAMES:
        builder = getattr(module, name, None)
        if callable(builder):
            return builder()
    raise RuntimeError(f"{PARSER_MODULE} has none of {', '.join(BUILDER_NAMES)}(): the CLI reference cannot be built")


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    """(name, parser) of each sub-command, in the order ``--help`` lists them (aliases left out)."""
    out: list[tuple[str, argparse.ArgumentParser]] = []
    seen: set[int] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                if id(sub) not in seen:
                    seen.add(id(sub))
                    out.append((name, sub))
    return out


def _paragraphs(text: str) -> list[nodes.paragraph]:
    """Text split at blank lines, each block one paragraph (argparse re-flows lines the same way)."""
    blocks = [" ".join(b.split()) for b in text.split("\n\n")]
    return [nodes.paragraph(text=b) for b in blocks if b]


def _argument_list(parser: argparse.ArgumentParser, actions: list[argparse.Action]) -> nodes.definition_list:
    formatter = parser._get_formatter()
    items = nodes.definition_list()
    for action in actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._SubParsersAction):
            continue
        term = nodes.term()
        term += nodes.literal(text=formatter._format_action_invocation(action))
        definition = nodes.definition()
        definition += _paragraphs(formatter._expand_help(action) if action.help else "")
        items += nodes.definition_list_item("", term, definition)
    return items


class CliReference(SphinxDirective):
    """``.. cli-reference::``: one section per command of ``vsrbench``."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        parser = load_parser()
        self.env.note_dependency(importlib.import_module(PARSER_MODULE).__file__)
        return [self._section([parser.prog], parser, top=True)]

    def _section(self, path: list[str], parser: argparse.ArgumentParser, *, top: bool = False) -> nodes.section:
        title = " ".join(path)
        section = nodes.section(ids=[nodes.make_id("cli " + title)], names=[nodes.fully_normalize_name(title)])
        section += nodes.title(text=title)
        if parser.description:
            section += _paragraphs(parser.description)
        section += nodes.literal_block(text=parser.format_usage().strip())
        for group in parser._action_groups:
            actions = [a for a in group._group_actions
                       if a.help != argparse.SUPPRESS and not isinstance(a, argparse._SubParsersAction)]
            if not actions:
                continue
            section += nodes.rubric(text=group.title or "arguments")
            if group.description:
                section += _paragraphs(group.description)
            section += _argument_list(parser, actions)
        if parser.epilog:
            section += nodes.rubric(text="examples and notes")
            section += nodes.literal_block(text=parser.epilog.strip("\n"))
        subs = _subcommands(parser)
        if subs and top:
            table = nodes.bullet_list()
            for name, sub in subs:
                para = nodes.paragraph()
                para += nodes.literal(text=f"{path[0]} {name}")
                summary = _summary(parser, name)
                if summary:
                    para += nodes.Text(f": {summary}")
                table += nodes.list_item("", para)
            section += table
        for name, sub in subs:
            section += self._section([*path, name], sub)
        return section


def _summary(parser: argparse.ArgumentParser, name: str) -> str:
    """The one-line help a sub-command was added with (shown in ``vsrbench --help``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if choice.dest == name or choice.metavar == name:
                    return " ".join((choice.help or "").split())
    return ""


def setup(app: Sphinx) -> dict[str, object]:
    app.add_directive("cli-reference", CliReference)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

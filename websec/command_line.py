"""Click's own words in Chinese, for both command lines (``python -m station``, ``python -m sync.hub``).

A county's IT person who mistyped an option read Click's English (``Error: No such option``,
``Missing argument``, ``is not a valid integer``). :class:`ChineseGroup` is the top group of each
command line: it parses in Click's non-standalone mode and prints each usage error itself as a
usage line and one Chinese line, exit status 2 as before. ``--help`` is Chinese too: 用法/选项/命令,
``[选项]`` and ``命令 [参数]...`` in the usage line, the value kinds (文本, 整数 …) and the notes
Click adds in brackets ([默认：150；0 到 20000], [必填]).
"""

from __future__ import annotations

import errno
import re
import sys
import unicodedata
from typing import Any, NoReturn

import click

HEADINGS = {"Options": "选项", "Commands": "命令", "Positional arguments": "参数", "Arguments": "参数"}
HELP_OPTION_WORDS = "显示本帮助并退出。"
OPTIONS_METAVAR = "[选项]"
SUBCOMMAND_METAVAR = "命令 [参数]..."
#: Click's names for the kind of value an option takes (its metavar when none is given).
VALUE_KINDS = {"TEXT": "文本", "INTEGER": "整数", "INTEGER RANGE": "整数", "FLOAT": "数", "FLOAT RANGE": "数",
               "BOOLEAN": "true|false", "PATH": "路径", "FILE": "文件", "DIRECTORY": "文件夹", "FILENAME": "文件"}
PATH_KINDS = {"File": "文件", "Directory": "文件夹", "Path": "路径", "file": "文件", "directory": "文件夹",
              "path": "路径"}


#: Marks a Chinese line never starts with, and those it never ends with (wrap_columns).
NO_LINE_START = frozenset("，。、；：！？）】》」』”’")
NO_LINE_END = frozenset("（【《「『“‘")


def display_width(text: str) -> int:
    """Columns `text` takes in a console: a Chinese character (or full-width mark) takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap_columns(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` columns; Latin words (options, paths) are not split, Chinese
    breaks anywhere but before ，。） and after （. Click counted characters, so a Chinese help line ran
    twice past the console's edge."""
    lines: list[str] = []
    line: list[str] = []
    for token in re.findall(r"[^\s\u2e80-\uffef]+|\s+|.", " ".join(text.split())):
        if not line or display_width("".join(line) + token) <= width:
            if line or not token.isspace():
                line.append(token)
            continue
        cut = len(line)
        if token in NO_LINE_START:  # the mark goes down with the word before it
            words = [k for k, t in enumerate(line) if not t.isspace() and t not in NO_LINE_START]
            cut = words[-1] if words else 0
        while cut > 0 and line[cut - 1] in NO_LINE_END:  # （ goes down with the word after it
            cut -= 1
        if not "".join(line[:cut]).strip():
            cut = len(line)
        lines.append("".join(line[:cut]).rstrip())
        line = [t for t in line[cut:] if t.strip()] if all(t.isspace() for t in line[cut:]) else line[cut:]
        if line or not token.isspace():
            line.append(token)
    if "".join(line).strip():
        lines.append("".join(line).rstrip())
    return lines


class ChineseHelpFormatter(click.HelpFormatter):
    """``--help`` with 用法/选项/命令 for Click's English headings, laid out by console columns."""

    def write_text(self, text: str) -> None:
        """A command's help text, each paragraph wrapped by console columns."""
        indent = " " * self.current_indent
        paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
        for number, paragraph in enumerate(paragraphs):
            if number:
                self.write("\n")
            for line in wrap_columns(paragraph, max(self.width - self.current_indent, 10)):
                self.write(f"{indent}{line}\n")

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        """Click's two-column list (options, commands), the columns measured in console columns."""
        rows = list(rows)
        first_col = min(max((display_width(first) for first, _ in rows), default=0), col_max) + col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if display_width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - display_width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap_columns(second, max(self.width - first_col - self.current_indent, 10)) or [""]
            self.write(f"{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{HEADINGS.get(heading, heading)}：\n")


class ChineseContext(click.Context):
    formatter_class = ChineseHelpFormatter


def _range_words(kind: click.IntRange | click.FloatRange) -> str:
    """``1<=x<=65535`` as 1 到 65535; an open bound says 大于/小于."""
    low = None if kind.min is None else f"{'大于' if kind.min_open else '不小于'} {kind.min}"
    high = None if kind.max is None else f"{'小于' if kind.max_open else '不大于'} {kind.max}"
    if low and high and not kind.min_open and not kind.max_open:
        return f"{kind.min} 到 {kind.max}"
    return "，".join(part for part in (low, high) if part)


def option_help_record(option: click.Option, ctx: click.Context) -> tuple[str, str] | None:
    """The option's line in ``--help``, as Click writes it but with its bracketed notes and value kind in Chinese."""
    record = option.get_help_record(ctx)
    if record is None:
        return None
    spec = record[0]
    english_kind = option.make_metavar(ctx)
    if option.metavar is None and english_kind in VALUE_KINDS:
        spec = spec.replace(f" {english_kind}", f" {VALUE_KINDS[english_kind]}")
    extra = option.get_help_extra(ctx)
    notes = []
    if "envvars" in extra:
        notes.append(f"环境变量：{', '.join(extra['envvars'])}")
    if "default" in extra:
        notes.append(f"默认：{extra['default']}")
    if "range" in extra and isinstance(option.type, click.IntRange | click.FloatRange):
        notes.append(_range_words(option.type))
    if "required" in extra:
        notes.append("必填")
    words = option.help or ""
    if notes:
        words = f"{words}  [{'；'.join(notes)}]" if words else f"[{'；'.join(notes)}]"
    return spec, words


class ChineseHelp:
    """What a command and a group share: the help option's words and the options' lines in Chinese."""

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_OPTION_WORDS
        return option

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's options section with Chinese notes ([默认：…], [必填]); a group's commands after it."""
        assert isinstance(self, click.Command)
        records = [record for param in self.get_params(ctx) if isinstance(param, click.Option)
                   and (record := option_help_record(param, ctx)) is not None]
        if records:
            with formatter.section("选项"):
                formatter.write_dl(records)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)


class ChineseCommand(ChineseHelp, click.Command):
    """A command whose help option and help page speak Chinese."""

    context_class = ChineseContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        super().__init__(*args, **kwargs)


class ChineseGroup(ChineseHelp, click.Group):
    """The top group of a command line: Click's usage errors, ``Aborted!`` and the like said in Chinese."""

    context_class = ChineseContext
    command_class = ChineseCommand
    group_class = type  # a subgroup (``bundle``) is a ChineseGroup too

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        kwargs.setdefault("subcommand_metavar", SUBCOMMAND_METAVAR)
        super().__init__(*args, **kwargs)

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """As Click's ``main``, with its messages for a wrong command line in Chinese."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as exc:
            _show_usage_error(exc)
        except click.ClickException as exc:  # a file Click could not open (click.File)
            click.echo(f"错误：{exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:  # Ctrl-C or end of input at a prompt
            click.echo("已取消。", err=True)
            sys.exit(1)
        except OSError as exc:
            if exc.errno != errno.EPIPE:  # output piped into `head`: as Click does, quietly
                raise
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def _show_usage_error(exc: click.UsageError) -> NoReturn:
    """The usage line, then one Chinese line: what is wrong and where the help is."""
    ctx = exc.ctx
    if ctx is not None and type(exc).__name__ == "NoArgsIsHelpError":  # `bundle` alone: its help, as Click shows it
        click.echo(ctx.get_help(), err=True)
        sys.exit(exc.exit_code)
    hint = ""
    if ctx is not None:
        pieces = " ".join(ctx.command.collect_usage_pieces(ctx))
        click.echo(f"用法：{ctx.command_path} {pieces}".rstrip(), err=True)
        hint = f"查看帮助：{ctx.command_path} -h"
    words = usage_words(exc).rstrip("。.")
    click.echo(f"错误：{words}。{hint}", err=True)
    sys.exit(exc.exit_code)


def _option_names(param: click.Parameter | None, ctx: click.Context | None) -> str:
    if param is None:
        return "参数"
    if isinstance(param, click.Option):
        return "选项 " + " / ".join(param.opts)
    return "参数 " + param.human_readable_name


def usage_words(exc: click.UsageError) -> str:
    """Click's usage error in Chinese (its own message only where Click's text is already ours)."""
    no_such_command = getattr(click.exceptions, "NoSuchCommand", None)
    if isinstance(exc, click.NoSuchOption):
        words = f"没有选项 {exc.option_name}"
        return words + (f"（是不是 {'、'.join(exc.possibilities)}？）" if exc.possibilities else "")
    if no_such_command is not None and isinstance(exc, no_such_command):
        words = f"没有命令 {exc.command_name}"
        return words + (f"（是不是 {'、'.join(exc.possibilities)}？）" if exc.possibilities else "")
    if isinstance(exc, click.MissingParameter):
        if isinstance(exc.param, click.Option):
            return f"缺少选项 {' / '.join(exc.param.opts)}"
        return f"缺少参数 {exc.param.human_readable_name}" if exc.param is not None else "缺少参数"
    if isinstance(exc, click.BadOptionUsage):
        if "does not take a value" in exc.message:
            return f"选项 {exc.option_name} 后面不能带值"
        if "requires" in exc.message:
            return f"选项 {exc.option_name} 后面缺少值"
        return exc.message
    if isinstance(exc, click.BadParameter):
        return f"{_option_names(exc.param, exc.ctx)} 的值有误：{value_words(exc)}"
    return general_words(exc.message)


def value_words(exc: click.BadParameter) -> str:
    """Why a value was refused, from the parameter's type and Click's message."""
    message = exc.message
    kind = exc.param.type if exc.param is not None else None
    if match := re.fullmatch(r"(.*) is not a valid (integer|float|integer range|float range)\.", message):
        return f"“{_unquoted(match[1])}”不是{'整数' if 'integer' in match[2] else '数字'}"
    if (match := re.fullmatch(r"(.*) is not in the range .*\.", message)) and isinstance(kind, click.IntRange | click.FloatRange):
        low, high = kind.min, kind.max
        allowed = (f"应为 {low} 到 {high}" if low is not None and high is not None
                   else f"不能小于 {low}" if low is not None else f"不能大于 {high}")
        return f"“{_unquoted(match[1])}”超出范围（{allowed}）"
    if (match := re.fullmatch(r"(.*) is not (?:one of )?.*\.", message)) and isinstance(kind, click.Choice):
        return f"“{_unquoted(match[1])}”不是可选的值（可选：{'、'.join(map(str, kind.choices))}）"
    if match := re.fullmatch(r"(\w+) (.*) (does not exist|is a file|is a directory|is not readable|is not writable)\.",
                             message):
        what, name = PATH_KINDS.get(match[1], "路径"), _unquoted(match[2])
        return {"does not exist": f"{what}“{name}”不存在",
                "is a file": f"“{name}”是文件，这里须为文件夹",
                "is a directory": f"“{name}”是文件夹，这里须为文件",
                "is not readable": f"无法读取{what}“{name}”",
                "is not writable": f"无法写入{what}“{name}”"}[match[3]]
    return message


def general_words(message: str) -> str:
    """A usage error Click raised without its own class (extra arguments, no command)."""
    if match := re.fullmatch(r"Got unexpected extra arguments? \((.*)\)", message):
        return f"多余的参数：{match[1]}"
    if message == "Missing command.":
        return "缺少命令"
    if match := re.fullmatch(r"No such command (.*)\.", message):
        return f"没有命令 {_unquoted(match[1])}"
    return message


def _unquoted(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" else text

"""Domain errors: services raise these with Chinese messages; views decide how to show them."""

from __future__ import annotations

import errno
from os import PathLike


class DomainError(Exception):
    """A rule was broken; `message` is shown to the user as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    """Several inputs are wrong at once; `errors` maps a form field to its Chinese message."""

    def __init__(self, errors: dict[str, str], message: str = "填写有误，请按提示修改后再保存。") -> None:
        super().__init__(message)
        self.errors = errors


class NotFound(DomainError):
    """The thing asked for does not exist (or is not this station's)."""


def cannot_write(path: str | PathLike[str], exc: OSError) -> str:
    """Why a file could not be written, in words for a station admin holding a USB stick.

    The system's own words (``[Errno 2] No such file or directory``) are English and name no
    remedy; what a stick can do wrong is few things, each with its fix.
    """
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        why = "文件夹不存在（U盘或移动硬盘未插好？盘符或路径写错？）"
    elif exc.errno == errno.ENOSPC:
        why = "空间已满，请换一个U盘或先清理空间"
    elif exc.errno == errno.EEXIST:  # `backup --to` naming a file
        why = "这里已有一个同名的文件，不是文件夹；请指明一个文件夹"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "没有写入权限（U盘是否处于写保护状态？）"
    else:
        why = f"系统错误 {exc.errno or ''}".strip()
    return f"无法写入 {path}：{why}。"

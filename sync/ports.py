"""Why a server could not listen on its port, in Chinese: shared by the station's and the hub's `run`.

Both serve with waitress on a PC or server run by people who read the console: a port already
taken or not allowed must be one sentence saying what to do, not waitress's traceback.
"""

from __future__ import annotations

import errno

WSAEADDRINUSE, WSAEACCES = 10048, 10013  # the same two on Windows, where errno names other numbers


class PortUnavailable(Exception):
    """The address cannot be listened on (taken by another program, or not this PC's); ``message`` in Chinese."""

    def __init__(self, host: str, port: int, exc: OSError, *, who: str = "便民服务站",
                 option: str = "--port", taken_by: str = "另一个文件夹的便民服务站") -> None:
        """``who`` did not start; ``option`` is the command's option that names this port (the demo has
        two); ``taken_by`` is the likeliest other program holding it."""
        if exc.errno in (errno.EADDRINUSE, WSAEADDRINUSE):
            why = (f"端口 {port} 已被其他程序占用（可能是{taken_by}，或其他软件）。"
                   f"请关闭它，或换一个端口启动，例如 {option} {port + 1 if port < 65535 else 8081}。")
        elif exc.errno in (errno.EACCES, WSAEACCES):
            why = f"没有权限使用端口 {port}（1024 以下的端口需要管理员权限），请换用 8080 等端口。"
        else:
            why = f"地址 {host} 不是本机的地址，或不能在此地址上监听（系统错误 {exc.errno}）。请检查 --host。"
        self.message = f"{who}未能启动：{why}"
        super().__init__(self.message)

"""Home visits (上门服务): how a visit can end — one table for the station's form, paper and the county."""

from __future__ import annotations

from collections.abc import Mapping

OUTCOMES: Mapping[str, str] = {
    "done": "已办完", "partly": "部分办理，还需再跑", "not_home": "未遇本人", "referred": "已转相关部门",
}

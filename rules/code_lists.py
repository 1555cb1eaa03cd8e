"""National code lists a catalog form field may draw its choices from (``code_list`` on a select).

A catalog that typed the 56 民族 into every item would drift from item to item; naming the list
keeps one spelling everywhere and lets the hub and the station check it the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

#: GB/T 3304-1991 中国各民族名称的罗马字母拼写法和代码, in code order (01 汉族 … 56 基诺族).
ETHNIC_GROUPS: tuple[str, ...] = (
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族",
    "满族", "侗族", "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族",
    "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族",
    "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族", "阿昌族", "普米族",
    "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族", "保安族", "裕固族", "京族", "塔塔尔族",
    "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
)

#: Every list by the name a catalog field gives in ``code_list``.
CODE_LISTS: Mapping[str, tuple[str, ...]] = {"ethnic_groups": ETHNIC_GROUPS}


def options_of(spec: Mapping[str, object]) -> list[str]:
    """The choices of a catalog form field: its national code list, or its own ``options``."""
    name = spec.get("code_list")
    if isinstance(name, str) and name in CODE_LISTS:
        return list(CODE_LISTS[name])
    options = spec.get("options")
    return [str(o) for o in options] if isinstance(options, list) else []

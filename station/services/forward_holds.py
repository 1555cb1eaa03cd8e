"""跨域办: the county's forward of a case to the handling county is held, as the station learns it.

The county (county A) forwards a case whose 办理地 is another county to that county's platform. When
that platform sets an event of the case aside (it refused it, or holds a different copy), the case
waits at county A — its later events held back behind it — until a county admin sends it again or
the handling county settles it. The county says so down the changes feed (``case.forward_held``);
without it the agent saw a case that merely seemed slow, and told the resident to wait for a
decision nobody was yet able to take. Each turn is a line on the case's timeline; the latest says
whether the case page shows the hold.
"""

from __future__ import annotations

from typing import Any

from station.models import Case, TimelineEntry
from station.services import timeline
from station.services.errors import DomainError

HELD = "forward_held"
RESUMED = "forward_resumed"
#: Who the timeline names: the county platform told the station.
ACTOR = "县级平台"


def hold_of(case: Case) -> TimelineEntry | None:
    """The timeline line saying the case's forward is held, while it still is (None: not held, or never was)."""
    last = (TimelineEntry.select().where((TimelineEntry.case == case) & TimelineEntry.action.in_((HELD, RESUMED)))
            .order_by(TimelineEntry.id.desc()).first())
    return last if last is not None and last.action == HELD else None


def held_message(county: str) -> str:
    return f"转送办理地（{county}）暂未成功，县级平台正在处理"


def apply_county_hold(case_id: str, payload: dict[str, Any]) -> Case | None:
    """A ``case.forward_held`` change (inside the pull's transaction): note the hold, or that it is over.

    A case this station does not hold (another device's) is left alone (None). Fields the county
    may add later are ignored; a ``held`` that is not true or false is refused for a person to see.
    A turn the case is in already (the feed read again after a restore) writes nothing.
    """
    case = Case.get_or_none(Case.id == case_id)
    if case is None:
        return None
    held = payload.get("held")
    if not isinstance(held, bool):
        raise DomainError("县级平台发来的跨域办转送状态无法识别（held 应为 true 或 false），本站未作改动。")
    if (hold_of(case) is not None) == held:
        return case
    county = str(payload.get("county") or "").strip()[:100] or "办理地县级平台"
    seq = payload.get("seq") if isinstance(payload.get("seq"), int) else None
    message = held_message(county) if held else f"转送办理地（{county}）已恢复，办件已送达办理地"
    timeline.record(case, ACTOR, HELD if held else RESUMED, message,
                    {"payload": {"held": held, "county": county, "seq": seq}})
    return case

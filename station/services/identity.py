"""Checks for the numbers an agent types at the counter: ID numbers, credit codes, phones, area codes.

Each check normalises what was typed (full-width digits, stray spaces, lower-case x), refuses
what cannot be right with one Chinese sentence that tells the agent what to fix, and returns
warnings for what is merely unusual. An unknown area code is never a refusal: the residents
exist even when python-stdnum's region table does not know their county (DOMAIN.md "Identity
numbers"), so we use stdnum's check-digit helpers but never its validate() as the gate.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from stdnum import numdb
from stdnum.cn import ric, uscc


class IdentityError(ValueError):
    """A number that cannot be right; str(error) is the Chinese message to show the agent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class CheckedNumber:
    """A number that passed its check, normalised for storage, with anything worth a second look."""

    value: str
    warnings: tuple[str, ...] = ()
    birth_date: date | None = None
    sex: str | None = None


# GA/T 2000.156 codes as the platforms use them. Enterprises are not here: they carry a
# 统一社会信用代码 and are checked with check_uscc().
CERTIFICATE_TYPES: dict[str, str] = {
    "111": "居民身份证",
    "112": "临时身份证",
    "113": "户口簿",
    "414": "普通护照",
    "511": "台湾居民来往大陆通行证",
    "516": "港澳居民来往内地通行证",
    "553": "外国人永久居留证",
    "990": "其他",
}

_RESIDENT_ID_TYPES = frozenset({"111", "112", "113"})
_TRAVEL_DOCUMENT_TYPES = frozenset({"414", "511", "516", "553"})
_TRAVEL_DOCUMENT = re.compile(r"^[0-9A-Z]{5,20}$")
_OTHER_CERTIFICATE_MAX = 50

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_EXCLUDED_LETTERS = "I、O、Z、S、V"

_DIGITS = frozenset("0123456789")
_MOBILE = re.compile(r"^1\d{10}$", re.ASCII)
# 010 and 02x are the only three-digit area codes; every other one has four digits. That is
# what lets us split a landline typed without a dash.
_LANDLINE = re.compile(
    r"^(?:(?P<area3>010|02\d)-?(?P<local8>[2-9]\d{7})|(?P<area4>0[3-9]\d{2})-?(?P<local>[2-9]\d{6,7}))"
    r"(?:(?:-|转)(?P<ext>\d{1,6}))?$",
    re.ASCII,
)

_TOWNSHIP_RANGES = ((1, 99), (100, 199), (200, 399))


def _normalize(raw: str | None) -> str:
    """Fold full-width characters to ASCII and drop spaces and invisible characters.

    Numbers pasted from WeChat or typed with a Chinese input method arrive full-width or with
    zero-width spaces; none of them can be part of a number.
    """
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def _all_digits(text: str) -> bool:
    """Tell whether text is ASCII digits only; str.isdigit() would also pass "٣" or "²"."""
    return bool(text) and all(ch in _DIGITS for ch in text)


def county_known(code: str) -> bool:
    """Tell whether a 6-digit county code appears in stdnum's region table in any year.

    stdnum marks counties with the years they existed ("[2006-]南川区"); we ignore those years
    on purpose, because a person keeps the number issued when the county was still called
    something else, and a newer county can issue numbers to people born before it existed.
    """
    if len(code) != 6 or not _all_digits(code):
        return False
    info = {key: value for _part, props in numdb.get("cn/loc").info(code) for key, value in props.items()}
    return bool(info.get("county"))


def check_resident_id(raw: str, *, today: date | None = None) -> CheckedNumber:
    """Check an 18-digit 居民身份证 number (GB 11643) and read the birth date and sex from it.

    `today` is only there so tests can pin the "birth date in the future" check.
    """
    number = _normalize(raw).upper()
    if not number:
        raise IdentityError("请填写身份证号码")
    if len(number) == 15 and _all_digits(number):
        raise IdentityError("15位旧身份证号码已停止使用，请使用18位号码（见新身份证或户口簿）")
    for position, ch in enumerate(number, start=1):
        if ch in _DIGITS:
            continue
        if ch == "X":
            if position != len(number):
                raise IdentityError("身份证号码中的X只能出现在第18位（最后一位），请核对")
            continue
        raise IdentityError(f"身份证号码第{position}位“{ch}”不对，只能是数字（最后一位可以是X）")
    if len(number) != 18:
        raise IdentityError(f"身份证号码应为18位，现在是{len(number)}位，请核对")
    if number[0] == "0":
        raise IdentityError("身份证号码第1位不会是0，请核对")

    birth_date = _birth_date(number, today or date.today())

    if number[-1] != ric.calc_check_digit(number):
        raise IdentityError("身份证号码校验不通过，可能有数字抄错，请对照证件逐位核对")

    warnings: list[str] = []
    if not county_known(number[:6]):
        warnings.append(
            f"身份证前6位地区代码{number[:6]}不在行政区划代码表中，请对照证件核对；如证件上确实如此，可以继续办理"
        )
    sex = "male" if int(number[16]) % 2 == 1 else "female"
    return CheckedNumber(value=number, warnings=tuple(warnings), birth_date=birth_date, sex=sex)


def _birth_date(number: str, today: date) -> date:
    """Read digits 7–14 as the birth date, refusing dates that cannot be a living applicant's."""
    year, month, day = number[6:10], number[10:12], number[12:14]
    try:
        born = date(int(year), int(month), int(day))
    except ValueError:
        raise IdentityError(
            f"身份证号码第7–14位是出生日期，{year}年{month}月{day}日不是真实的日期，请核对"
        ) from None
    if born.year < 1900:
        raise IdentityError(f"身份证号码中的出生日期{born:%Y年%m月%d日}早于1900年，请核对")
    if born > today:
        raise IdentityError(f"身份证号码中的出生日期{born:%Y年%m月%d日}晚于今天，请核对")
    return born


def check_uscc(raw: str) -> CheckedNumber:
    """Check an 18-character 统一社会信用代码 (GB 32100) by its character set and MOD 31 check.

    Unlike stdnum's validate(), positions 1–8 may hold letters: village collective economic
    organisations (N2…) and codes issued by other authorities (Y…) are real and must pass.
    """
    code = _normalize(raw).upper().replace("-", "")
    if not code:
        raise IdentityError("请填写统一社会信用代码")
    for position, ch in enumerate(code, start=1):
        if ch not in _USCC_ALPHABET:
            raise IdentityError(
                f"统一社会信用代码第{position}位“{ch}”不对，只能是数字和大写字母"
                f"（不使用字母{_USCC_EXCLUDED_LETTERS}），请核对"
            )
    if len(code) != 18:
        raise IdentityError(f"统一社会信用代码应为18位，现在是{len(code)}位，请核对")
    # calc_check_digit weighs the first 17 characters only, so passing all 18 is fine.
    if code[-1] != uscc.calc_check_digit(code):
        raise IdentityError("统一社会信用代码校验不通过，可能有字符抄错，请对照营业执照或登记证书逐位核对")
    return CheckedNumber(value=code)


def check_certificate(cert_type: str, raw: str) -> CheckedNumber:
    """Check a personal certificate number according to its GA/T 2000.156 type code.

    Resident ID, temporary ID and household register carry the same 18-digit number. Passports
    and permits change format between issues, so they get only a loose shape check.
    """
    if cert_type in _RESIDENT_ID_TYPES:
        return check_resident_id(raw)
    name = CERTIFICATE_TYPES.get(cert_type)
    if name is None:
        if cert_type.lower() == "uscc":
            raise IdentityError("统一社会信用代码不是个人证件，企业和组织请按统一社会信用代码填写")
        raise IdentityError(f"证件类型“{cert_type}”不在可选范围内，请重新选择")
    if cert_type in _TRAVEL_DOCUMENT_TYPES:
        number = _normalize(raw).upper()
        if not number:
            raise IdentityError(f"请填写{name}号码")
        if not _TRAVEL_DOCUMENT.match(number):
            raise IdentityError(f"{name}号码应为5到20位字母或数字，请对照证件核对")
        return CheckedNumber(value=number)
    number = (raw or "").strip()
    if not number:
        raise IdentityError("请填写证件号码")
    if len(number) > _OTHER_CERTIFICATE_MAX:
        raise IdentityError(f"证件号码不能超过{_OTHER_CERTIFICATE_MAX}个字，请核对")
    return CheckedNumber(value=number)


def check_phone(raw: str) -> str:
    """Return a mainland mobile (13812345678) or a landline with area code (0571-87654321[-123]).

    A village applicant is called back about the case; a number we cannot dial is worse than
    none, so a landline without its area code is refused.
    """
    phone = _normalize(raw)
    if not phone:
        raise IdentityError("请填写联系电话")
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            phone = phone[len(prefix) :].lstrip("-")
            break
    digits_only = phone.replace("-", "")
    if _MOBILE.match(digits_only) and phone[0] == "1":
        if digits_only[1] in "012":
            raise IdentityError("手机号码第2位应为3到9，请核对")
        return digits_only
    landline = _LANDLINE.match(phone)
    if landline:
        area = landline["area3"] or landline["area4"]
        local = landline["local8"] or landline["local"]
        value = f"{area}-{local}"
        if landline["ext"]:
            value += f"-{landline['ext']}"
        return value
    if _all_digits(digits_only) and len(digits_only) in (7, 8) and digits_only[0] in "23456789":
        raise IdentityError("座机号码请加上区号，如 0571-87654321")
    if not re.fullmatch(r"[0-9-]+(?:转[0-9]+)?", phone):
        raise IdentityError("电话号码只能填写数字和“-”，请核对")
    raise IdentityError("电话号码格式不对：手机号为1开头的11位数字；座机请写区号加号码，如 0571-87654321")


def check_area_code(raw: str) -> CheckedNumber:
    """Check a 12-digit 统计用区划代码 (county 6 + township 3 + village 3).

    The table is reissued every year and stdnum's copy lags behind it, so an unknown county or
    an unusual township range is a warning for the agent to confirm, not a refusal.
    """
    code = _normalize(raw)
    if not code:
        raise IdentityError("请填写区划代码")
    if not _all_digits(code) or len(code) != 12:
        raise IdentityError(f"区划代码应为12位数字（县6位＋乡镇3位＋村3位），现在是“{code}”，请核对")
    warnings: list[str] = []
    county, township = code[:6], code[6:9]
    if not county_known(county):
        warnings.append(f"前6位县级代码{county}不在行政区划代码表中，请对照统计用区划代码核对")
    if not any(low <= int(township) <= high for low, high in _TOWNSHIP_RANGES):
        warnings.append(
            f"第7–9位乡级代码{township}不在常见范围内（001–099街道、100–199镇、200–399乡），请核对"
        )
    return CheckedNumber(value=code, warnings=tuple(warnings))

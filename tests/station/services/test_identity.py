"""Identity number checks: each fault gets its own Chinese message; unknown areas only warn."""

from datetime import date

import pytest
from stdnum.cn import ric

from station.services.identity import (
    CERTIFICATE_TYPES,
    CheckedNumber,
    IdentityError,
    check_area_code,
    check_certificate,
    check_phone,
    check_resident_id,
    check_uscc,
)

TODAY = date(2026, 6, 1)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_with_check(base17: str) -> str:
    """Append the GB 32100 MOD 31 check character, computed here independently of stdnum."""
    total = sum(USCC_ALPHABET.index(ch) * weight for ch, weight in zip(base17, USCC_WEIGHTS, strict=True))
    return base17 + USCC_ALPHABET[(31 - total % 31) % 31]


def id_with_check(base17: str) -> str:
    """Append the GB 11643 (ISO 7064 MOD 11-2) check digit, computed here independently of stdnum."""
    total = sum(int(ch) * (2 ** (17 - i) % 11) for i, ch in enumerate(base17))
    return base17 + "10X98765432"[total % 11]


def test_independent_check_digit_helpers_agree_with_known_numbers():
    assert id_with_check("11010519491231002") == "11010519491231002X"
    assert id_with_check("36042619910101007") == "360426199101010071"
    assert uscc_with_check("91110000600037341") == "91110000600037341L"


# ---------------------------------------------------------------- resident ID


@pytest.mark.parametrize(
    ("raw", "value", "birth_date", "sex"),
    [
        ("11010519491231002X", "11010519491231002X", date(1949, 12, 31), "female"),
        ("11010519491231002x", "11010519491231002X", date(1949, 12, 31), "female"),
        (" 1101 0519 4912 3100 2x ", "11010519491231002X", date(1949, 12, 31), "female"),
        ("１１０１０５１９４９１２３１００２ｘ", "11010519491231002X", date(1949, 12, 31), "female"),
        ("360426199101010071", "360426199101010071", date(1991, 1, 1), "male"),
        ("\u200b360426199101010071", "360426199101010071", date(1991, 1, 1), "male"),
    ],
)
def test_resident_id_accepted_and_normalised(raw, value, birth_date, sex):
    checked = check_resident_id(raw, today=TODAY)
    assert checked == CheckedNumber(value=value, warnings=(), birth_date=birth_date, sex=sex)


@pytest.mark.parametrize(
    "number",
    [
        "500119198001010017",  # 南川区 code dates from 2006; stdnum's validate() refuses this resident
        id_with_check("33011019900307003"),  # 余杭区 code dates from 2001
    ],
)
def test_resident_id_county_newer_than_birth_is_accepted(number):
    assert not ric.is_valid(number)  # the reason we do not gate on stdnum
    checked = check_resident_id(number, today=TODAY)
    assert checked.value == number
    assert checked.birth_date is not None


def test_resident_id_unknown_area_is_a_warning_not_a_refusal():
    number = id_with_check("99010119800101001")
    checked = check_resident_id(number, today=TODAY)
    assert checked.value == number
    assert checked.sex == "male"
    assert len(checked.warnings) == 1
    assert "990101" in checked.warnings[0]
    assert "可以继续办理" in checked.warnings[0]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请填写身份证号码"),
        ("   ", "请填写身份证号码"),
        (None, "请填写身份证号码"),
        ("110105491231002", "15位旧身份证号码已停止使用，请使用18位号码（见新身份证或户口簿）"),
        ("1101051949123100", "身份证号码应为18位，现在是16位，请核对"),
        ("1101051949123100211", "身份证号码应为18位，现在是19位，请核对"),
        ("11010519491231002-", "身份证号码第18位“-”不对，只能是数字（最后一位可以是X）"),
        ("11010519491231O02X", "身份证号码第15位“O”不对，只能是数字（最后一位可以是X）"),
        ("110105-19491231-002X", "身份证号码第7位“-”不对，只能是数字（最后一位可以是X）"),
        ("1101051949123100X2", "身份证号码中的X只能出现在第18位（最后一位），请核对"),
        ("11010519491231002XX", "身份证号码中的X只能出现在第18位（最后一位），请核对"),
        ("1101051949123102X", "身份证号码应为18位，现在是17位，请核对"),
        ("11010519491231002٣", "身份证号码第18位“٣”不对，只能是数字（最后一位可以是X）"),
        (id_with_check("01010519491231002"), "身份证号码第1位不会是0，请核对"),
        (
            id_with_check("11010519800230001"),
            "身份证号码第7–14位是出生日期，1980年02月30日不是真实的日期，请核对",
        ),
        (
            id_with_check("11010519801301001"),
            "身份证号码第7–14位是出生日期，1980年13月01日不是真实的日期，请核对",
        ),
        (id_with_check("11010518991231001"), "身份证号码中的出生日期1899年12月31日早于1900年，请核对"),
        (id_with_check("11010520260602001"), "身份证号码中的出生日期2026年06月02日晚于今天，请核对"),
        ("110105194912310021", "身份证号码校验不通过，可能有数字抄错，请对照证件逐位核对"),
        # two digits transposed
        ("11010519491213002X", "身份证号码校验不通过，可能有数字抄错，请对照证件逐位核对"),
    ],
)
def test_resident_id_faults(raw, message):
    with pytest.raises(IdentityError) as excinfo:
        check_resident_id(raw, today=TODAY)
    assert str(excinfo.value) == message
    assert isinstance(excinfo.value, ValueError)


def test_resident_id_born_today_is_accepted():
    number = id_with_check("11010520260601001")
    assert check_resident_id(number, today=TODAY).birth_date == TODAY


def test_resident_id_defaults_to_the_real_today():
    assert check_resident_id("360426199101010071").value == "360426199101010071"


# ---------------------------------------------------------------- USCC


@pytest.mark.parametrize(
    "code",
    [
        "91110000600037341L",  # company (stdnum's own example)
        uscc_with_check("91330106MA2ABCDE1"),
        uscc_with_check("N2330110MF0123456"),  # 农村集体经济组织
        uscc_with_check("N2330110500000123"),
        uscc_with_check("Y1330106MC1234567"),
    ],
)
def test_uscc_accepted(code):
    assert check_uscc(code) == CheckedNumber(value=code)


def test_uscc_accepts_what_stdnum_refuses():
    from stdnum.cn import uscc

    code = uscc_with_check("N2330110MF0123456")
    assert not uscc.is_valid(code)
    assert check_uscc(code).value == code


def test_uscc_normalises_case_spaces_and_full_width():
    code = uscc_with_check("N2330110MF0123456")
    typed = " ".join([code[:6].lower(), code[6:12], code[12:]]).replace("3", "３")
    assert check_uscc(typed).value == code


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请填写统一社会信用代码"),
        ("91110000600037341", "统一社会信用代码应为18位，现在是17位，请核对"),
        ("91110000600037341LL", "统一社会信用代码应为18位，现在是19位，请核对"),
        (
            "91110000600O37341L",
            "统一社会信用代码第12位“O”不对，只能是数字和大写字母（不使用字母I、O、Z、S、V），请核对",
        ),
        (
            "9111000060003734IL",
            "统一社会信用代码第17位“I”不对，只能是数字和大写字母（不使用字母I、O、Z、S、V），请核对",
        ),
        (
            "S1110000600037341L",
            "统一社会信用代码第1位“S”不对，只能是数字和大写字母（不使用字母I、O、Z、S、V），请核对",
        ),
        (
            "91110000600037341*",
            "统一社会信用代码第18位“*”不对，只能是数字和大写字母（不使用字母I、O、Z、S、V），请核对",
        ),
        (
            "91110000600037341M",
            "统一社会信用代码校验不通过，可能有字符抄错，请对照营业执照或登记证书逐位核对",
        ),
        (
            "91110000600073341L",
            "统一社会信用代码校验不通过，可能有字符抄错，请对照营业执照或登记证书逐位核对",
        ),
    ],
)
def test_uscc_faults(raw, message):
    with pytest.raises(IdentityError) as excinfo:
        check_uscc(raw)
    assert str(excinfo.value) == message


# ---------------------------------------------------------------- other certificates


def test_certificate_types_table():
    assert CERTIFICATE_TYPES["111"] == "居民身份证"
    assert CERTIFICATE_TYPES["113"] == "户口簿"
    assert set(CERTIFICATE_TYPES) == {"111", "112", "113", "414", "511", "516", "553", "990"}
    assert "uscc" not in CERTIFICATE_TYPES


@pytest.mark.parametrize("cert_type", ["111", "112", "113"])
def test_resident_id_types_use_resident_id_rules(cert_type):
    assert check_certificate(cert_type, "11010519491231002x").value == "11010519491231002X"
    with pytest.raises(IdentityError, match="15位旧身份证号码已停止使用"):
        check_certificate(cert_type, "110105491231002")


@pytest.mark.parametrize(
    ("cert_type", "raw", "value"),
    [
        ("414", "E12345678", "E12345678"),
        ("414", " e1234 5678 ", "E12345678"),
        ("511", "12345678", "12345678"),
        ("516", "H12345678", "H12345678"),
        ("553", "USA123456789012", "USA123456789012"),
        ("553", "933000199001010012", "933000199001010012"),
        ("990", "  军官证 第123号 ", "军官证 第123号"),
        ("990", "x" * 50, "x" * 50),
    ],
)
def test_other_certificates_accepted(cert_type, raw, value):
    assert check_certificate(cert_type, raw).value == value


@pytest.mark.parametrize(
    ("cert_type", "raw", "message"),
    [
        ("414", "", "请填写普通护照号码"),
        ("414", "E123", "普通护照号码应为5到20位字母或数字，请对照证件核对"),
        ("511", "1234-5678", "台湾居民来往大陆通行证号码应为5到20位字母或数字，请对照证件核对"),
        ("516", "H" + "1" * 20, "港澳居民来往内地通行证号码应为5到20位字母或数字，请对照证件核对"),
        ("553", "永久居留123", "外国人永久居留证号码应为5到20位字母或数字，请对照证件核对"),
        ("990", "   ", "请填写证件号码"),
        ("990", "x" * 51, "证件号码不能超过50个字，请核对"),
        ("uscc", "91110000600037341L", "统一社会信用代码不是个人证件，企业和组织请按统一社会信用代码填写"),
        ("999", "123456", "证件类型“999”不在可选范围内，请重新选择"),
    ],
)
def test_other_certificate_faults(cert_type, raw, message):
    with pytest.raises(IdentityError) as excinfo:
        check_certificate(cert_type, raw)
    assert str(excinfo.value) == message


# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("19912345678", "19912345678"),
        ("010-62345678", "010-62345678"),
        ("01062345678", "010-62345678"),
        ("021 6234 5678", "021-62345678"),
        ("0571-87654321", "0571-87654321"),
        ("057187654321", "0571-87654321"),
        ("０５７１－８７６５４３２１", "0571-87654321"),
        ("0351-2345678", "0351-2345678"),
        ("03512345678", "0351-2345678"),
        ("0755-82345678-801", "0755-82345678-801"),
        ("0755-82345678转801", "0755-82345678-801"),
    ],
)
def test_phone_accepted_and_normalised(raw, value):
    assert check_phone(raw) == value


GENERIC_PHONE_MESSAGE = "电话号码格式不对：手机号为1开头的11位数字；座机请写区号加号码，如 0571-87654321"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请填写联系电话"),
        ("  ", "请填写联系电话"),
        ("12012345678", "手机号码第2位应为3到9，请核对"),
        ("87654321", "座机号码请加上区号，如 0571-87654321"),
        ("2345678", "座机号码请加上区号，如 0571-87654321"),
        ("138123456789", GENERIC_PHONE_MESSAGE),
        ("1381234567", GENERIC_PHONE_MESSAGE),
        ("010-6234567", GENERIC_PHONE_MESSAGE),
        ("0571-12345678", GENERIC_PHONE_MESSAGE),
        ("138abc45678", "电话号码只能填写数字和“-”，请核对"),
        ("138/1234/5678", "电话号码只能填写数字和“-”，请核对"),
    ],
)
def test_phone_faults(raw, message):
    with pytest.raises(IdentityError) as excinfo:
        check_phone(raw)
    assert str(excinfo.value) == message


# ---------------------------------------------------------------- area codes


@pytest.mark.parametrize(
    "raw",
    [
        "330110005001",  # 街道
        "330110101201",  # 镇
        "330110201201",  # 乡
        "441900003001",  # 东莞: a prefecture-level city with no counties
        " ３３０１１０１０１２０１ ",
    ],
)
def test_area_code_accepted_without_warning(raw):
    checked = check_area_code(raw)
    assert checked.value == raw.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    assert checked.warnings == ()


@pytest.mark.parametrize(
    ("raw", "warning_part"),
    [
        ("330110401001", "乡级代码401"),
        ("330110000001", "乡级代码000"),
        ("990110101001", "县级代码990110"),
    ],
)
def test_area_code_unusual_parts_only_warn(raw, warning_part):
    checked = check_area_code(raw)
    assert checked.value == raw
    assert len(checked.warnings) == 1
    assert warning_part in checked.warnings[0]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请填写区划代码"),
        ("33011010120", "区划代码应为12位数字（县6位＋乡镇3位＋村3位），现在是“33011010120”，请核对"),
        ("3301101012010", "区划代码应为12位数字（县6位＋乡镇3位＋村3位），现在是“3301101012010”，请核对"),
        ("33011010120A", "区划代码应为12位数字（县6位＋乡镇3位＋村3位），现在是“33011010120A”，请核对"),
    ],
)
def test_area_code_faults(raw, message):
    with pytest.raises(IdentityError) as excinfo:
        check_area_code(raw)
    assert str(excinfo.value) == message

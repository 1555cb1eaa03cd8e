"""Flask-WTF forms with Chinese messages (the dynamic intake form is checked by services.intake)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from rules.labels import REVEAL_REASONS
from station.models.users import ROLES
from station.services.station_info import LEVELS


def _choices(pairs: dict[str, str] | list[tuple[str, str]]) -> list[SelectChoice]:
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label) for value, label in items]


class ChineseForm(FlaskForm):
    """Built-in WTForms messages ("Not a valid choice") in Chinese too."""

    class Meta:
        locales = ("zh",)


class LoginForm(ChineseForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), Length(max=40)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码。")])


class UserForm(ChineseForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), Length(max=40)])
    name = StringField("姓名", validators=[DataRequired("请输入姓名。"), Length(max=40)])
    role = SelectField("角色", choices=_choices(ROLES))
    phone = StringField("联系电话", validators=[Optional(), Length(max=20)])
    password = PasswordField("初始密码", validators=[DataRequired("请设置初始密码。")])


class PasswordForm(ChineseForm):
    password = PasswordField("新密码", validators=[DataRequired("请输入新密码。")])


class StationForm(ChineseForm):
    code = StringField("服务站编码", validators=[DataRequired("请填写服务站编码。")])
    name = StringField("服务站名称", validators=[DataRequired("请填写服务站名称。"), Length(max=100)])
    level = SelectField("层级", choices=_choices(LEVELS))
    area_code = StringField("行政区划代码（12位）", validators=[DataRequired("请填写行政区划代码。")])
    address = StringField("地址", validators=[Optional(), Length(max=200)])
    phone = StringField("咨询电话", validators=[Optional(), Length(max=40)])
    supervise_phone = StringField("监督电话", validators=[Optional(), Length(max=40)])
    query_url_base = StringField("进度查询网址（二维码内容）", validators=[Optional(), Length(max=200)])


class HolidayForm(ChineseForm):
    day = DateField("日期", validators=[DataRequired("请选择日期。")])
    is_workday = SelectField("类型", choices=_choices([("0", "放假（不计工作日）"), ("1", "调休上班（计工作日）")]))
    name = StringField("名称", validators=[DataRequired("请填写名称。"), Length(max=40)])
    mark_year_known = BooleanField("该年度节假日数据已完整")


class NoteForm(ChineseForm):
    text = TextAreaField("备注", validators=[DataRequired("请填写备注内容。"), Length(max=500, message="备注最多500字。")])


class AttachmentForm(ChineseForm):
    file = FileField("扫描件（JPG、PNG 或 PDF）", validators=[FileRequired("请选择要上传的文件。")])


class CatalogImportForm(ChineseForm):
    file = FileField("事项目录文件（JSON）", validators=[FileRequired("请选择目录文件。")])


class RevealForm(ChineseForm):
    """Why a full number is needed: a reason from the list, words of one's own for "other"."""

    reason = SelectField("显示理由", choices=_choices([("", "请选择理由"), *REVEAL_REASONS.items()]),
                         validators=[DataRequired("请选择显示完整号码的理由。")])
    # no Optional(): it would stop the chain before the check that "other" has words
    reason_text = StringField("说明", validators=[Length(max=200, message="说明最多200字。")])

    def validate_reason_text(self, field: StringField) -> None:
        if self.reason.data == "other" and not (field.data or "").strip():
            raise ValidationError("选择“其他”时请写明理由。")


class RevealNumberForm(RevealForm):
    """One masked number in the case page's free text, named by its path (services.masked_texts), and why."""

    path = HiddenField("号码")  # checked against the case's own texts by the service, never parsed here

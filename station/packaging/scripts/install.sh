#!/bin/sh
# 便民服务站 离线安装 / 升级（Linux：统信 UOS、银河麒麟等，x86_64 或 ARM aarch64）
# 不需要联网，不需要管理员（root）权限。用法：sh install.sh
# 可选环境变量：STATION_HOME（安装位置，默认 ~/bianmin-station）、STATION_PORT（默认 8080）、
#   PYTHON（Python 3.11 的路径）、STATION_NO_AUTOSTART=1（不设开机启动）。
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
HOME_DIR=${STATION_HOME:-"$HOME/bianmin-station"}
PORT=${STATION_PORT:-8080}

find_python() {
  for candidate in "${PYTHON:-}" "$HERE/python/bin/python3" python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

PY=$(find_python) || {
  echo "未找到 Python 3.11。请先安装 Python 3.11（见 docs/install.md），或用 PYTHON=/路径/python3.11 sh install.sh 指明。" >&2
  exit 1
}

mkdir -p "$HOME_DIR"
FIRST_INSTALL=1
[ -f "$HOME_DIR/instance/station.sqlite3" ] && FIRST_INSTALL=0

# 升级时先停止正在运行的服务站（开机启动的 systemd 用户服务）
if [ "$FIRST_INSTALL" = 0 ] && command -v systemctl >/dev/null 2>&1; then
  systemctl --user stop bianmin-station.service 2>/dev/null || true
fi

echo "正在安装到 $HOME_DIR …"
[ -x "$HOME_DIR/venv/bin/python" ] || "$PY" -m venv "$HOME_DIR/venv"
"$HOME_DIR/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index \
  --find-links "$HERE/wheels" --upgrade bianmin-station
# 加速组件：本平台有安装包就装，没有就用纯 Python（功能相同，稍慢）
while read -r speedup; do
  [ -n "$speedup" ] || continue
  "$HOME_DIR/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index \
    --find-links "$HERE/wheels" "$speedup" 2>/dev/null || echo "（本机没有 $speedup 的安装包：使用纯 Python，功能相同。）"
done < "$HERE/speedups.txt"

cp "$HERE/start.sh" "$HOME_DIR/start.sh"
chmod 755 "$HOME_DIR/start.sh"
printf 'STATION_PORT=%s\n' "$PORT" > "$HOME_DIR/station.env"

# 初始化数据库；已有数据库时先复制一份（station.sqlite3.before-….bak），再升级，排队的办件都保留
"$HOME_DIR/venv/bin/python" -m station --instance "$HOME_DIR/instance" init

if [ "$FIRST_INSTALL" = 1 ]; then
  echo "请为站长（管理员）设置登录密码："
  "$HOME_DIR/venv/bin/python" -m station --instance "$HOME_DIR/instance" create-user admin --name 站长 --role admin
fi

if [ "${STATION_NO_AUTOSTART:-0}" != 1 ]; then
  UNIT_DIR="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user"
  mkdir -p "$UNIT_DIR"
  cat > "$UNIT_DIR/bianmin-station.service" <<UNIT
[Unit]
Description=便民服务站

[Service]
ExecStart=$HOME_DIR/start.sh
Restart=on-failure
RestartSec=10

[Install]
WantedBy=default.target
UNIT
  if command -v systemctl >/dev/null 2>&1 && systemctl --user daemon-reload 2>/dev/null &&
     systemctl --user enable --now bianmin-station.service 2>/dev/null; then
    echo "已设置开机启动（systemd 用户服务 bianmin-station）。"
    # 不登录也启动：多数系统允许用户为自己开启（不行时登录桌面后启动）
    loginctl enable-linger "$(id -un)" 2>/dev/null || true
  else
    # 没有 systemd 用户会话的桌面：登录时由桌面自动启动
    AUTOSTART="${XDG_CONFIG_HOME:-$HOME/.config}/autostart"
    mkdir -p "$AUTOSTART"
    cat > "$AUTOSTART/bianmin-station.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=便民服务站
Exec=$HOME_DIR/start.sh
X-GNOME-Autostart-enabled=true
DESKTOP
    echo "已设置登录桌面后自动启动（$AUTOSTART/bianmin-station.desktop）。"
  fi
fi

echo "安装完成。打开浏览器访问 http://127.0.0.1:$PORT/ 登录。"
